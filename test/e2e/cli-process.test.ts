// The command as a process, run from its sources: serve stops cleanly on SIGTERM, logs only to stderr, exit codes.
// The compiled bin/ is tested as a process in compiled-bin.test.ts.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { eventList, send } from '../support/http-client.ts';
import { CLI_FROM_SOURCE, listeningUrl, spawnForTest } from '../support/process.ts';
import { Fixture, fixtureFile } from '../support/records.ts';

const run = promisify(execFile);
const exitCode = (error: unknown): number => (error as { code: number }).code;

describe('kube-audit-relay as a process', () => {
  test('serve answers, writes stdout, logs to stderr only, and exits 0 on SIGTERM', { timeout: 60_000 }, async (t) => {
    const serve = spawnForTest(t, process.execPath, [...CLI_FROM_SOURCE, 'serve', '--port', '0'], { env: { PATH: process.env.PATH } });
    const url = await listeningUrl(serve);
    const lines = fixtureFile(Fixture.Metadata).slice(0, 4);
    assert.equal((await send(url, eventList(lines))).status, 200);
    assert.equal(await serve.stop(), 0);
    assert.equal(serve.stdout(), `${lines.join('\n')}\n`, 'stdout holds only the events');
    const logs = serve.stderr().trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.deepEqual(logs.map((entry) => entry.msg), ['listening', `stored ${lines.length} of ${lines.length} events`, 'shutting down: finishing batches in progress']);
  });

  test('help exits 0, an unknown command exits 2, --version prints the package version', { timeout: 60_000 }, async () => {
    assert.match((await run(process.execPath, [...CLI_FROM_SOURCE, '--help'], { timeout: 20_000 })).stdout, /commands:\n {2}serve/);
    assert.match((await run(process.execPath, [...CLI_FROM_SOURCE, 'serve', '--help'], { timeout: 20_000 })).stdout, /--client-ca FILE/);
    await assert.rejects(run(process.execPath, [...CLI_FROM_SOURCE, 'serv'], { timeout: 20_000 }), (error) => exitCode(error) === 2);
    assert.match((await run(process.execPath, [...CLI_FROM_SOURCE, '--version'], { timeout: 20_000 })).stdout, /^\d+\.\d+\.\d+\n$/);
  });
});
