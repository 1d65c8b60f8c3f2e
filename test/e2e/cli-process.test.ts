// The installed command as a process: the bin runs TypeScript through tsx, serve stops cleanly on SIGTERM, exit codes.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { eventList, send } from '../support/http-client.ts';
import { fixtureFiles } from '../support/records.ts';

const bin = fileURLToPath(new URL('../../bin/kube-audit-relay.js', import.meta.url));
const run = promisify(execFile);
const exitCode = (error: unknown): number => (error as { code: number }).code;

describe('kube-audit-relay as a process', () => {
  test('serve answers, writes stdout, logs to stderr only, and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, [bin, 'serve', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        const match = /"url":"([^"]+)"/.exec(stderr);
        if (match) resolve(match[1]!);
      });
      child.once('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)));
    });
    const lines = fixtureFiles().find((file) => file.name.startsWith('openshift-clo-logsamples'))!.lines;
    assert.equal((await send(url, eventList(lines))).status, 200);
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
    assert.equal(stdout, `${lines.join('\n')}\n`, 'stdout holds only the events');
    const logs = stderr.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.deepEqual(logs.map((entry) => entry.msg), ['listening', `stored ${lines.length} of ${lines.length} events`, 'shutting down: finishing batches in progress']);
  });

  test('help exits 0, an unknown command exits 2, --version prints the package version', async () => {
    assert.match((await run(process.execPath, [bin, '--help'])).stdout, /commands:\n {2}serve/);
    assert.match((await run(process.execPath, [bin, 'serve', '--help'])).stdout, /--client-ca FILE/);
    await assert.rejects(run(process.execPath, [bin, 'serv']), (error) => exitCode(error) === 2);
    assert.match((await run(process.execPath, [bin, '--version'])).stdout, /^\d+\.\d+\.\d+\n$/);
  });
});
