// `npm run dev` and `npm run dev:logs` exactly as a developer types them: the README's example batch gets 200 from
// the handler under serverless offline, lands in the local CloudWatch Logs stand-in, and nothing leaves the machine.
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Annotation } from '../../src/audit/annotations.ts';
import type { AuditEvent } from '../../src/audit/types.ts';
import { send } from '../support/http-client.ts';
import { freePort, REPO_ROOT } from '../support/serverless.ts';

const run = promisify(execFile);
/** The body of the README's quick-start `curl`, which the README says also works against `npm run dev`. */
const readmeBody = /--data-binary '([^']+)' http:\/\/127\.0\.0\.1:3000\//.exec(readFileSync(`${REPO_ROOT}README.md`, 'utf8'))?.[1];
/** serverless offline builds the handler with esbuild before it serves: slow on a loaded 2-core machine. */
const START_TIMEOUT_MS = 90_000;

describe('npm run dev (offline AWS loop)', () => {
  let dev: ChildProcess;
  let output = '';
  let exited: Promise<void>;
  // A base environment with none of the developer's AWS settings, plus a profile that must not be used.
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, AWS_PROFILE: 'must-not-be-used' };

  before(async () => {
    env.KAR_DEV_HTTP_PORT = String(await freePort());
    env.KAR_DEV_LAMBDA_PORT = String(await freePort());
    env.KAR_DEV_LOGS_PORT = String(await freePort());
    // Its own process group, so stopping it stops npm, the dev tool and serverless together.
    dev = spawn('npm', ['run', 'dev'], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    exited = new Promise((resolve) => dev.once('close', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`npm run dev did not serve within ${START_TIMEOUT_MS} ms:\n${output}`)), START_TIMEOUT_MS);
      const collect = (chunk: Buffer) => {
        output += chunk.toString('utf8');
        if (output.includes('Server ready:')) {
          clearTimeout(timer);
          resolve();
        }
      };
      dev.stdout!.on('data', collect);
      dev.stderr!.on('data', collect);
      dev.once('close', (code) => {
        clearTimeout(timer);
        reject(new Error(`npm run dev exited with ${code} before serving:\n${output}`));
      });
    });
  });

  after(async () => {
    if (dev?.exitCode === null && dev.signalCode === null) process.kill(-dev.pid!, 'SIGTERM');
    const killer = setTimeout(() => process.kill(-dev.pid!, 'SIGKILL'), 10_000);
    await exited;
    clearTimeout(killer);
  });

  it('answers the README example with 200, and npm run dev:logs prints the stored event', async () => {
    // arrange
    assert.ok(readmeBody, 'the README has its curl example');
    const sent = (JSON.parse(readmeBody) as { items: AuditEvent[] }).items[0]!;

    // act
    const answer = await send(`http://127.0.0.1:${env.KAR_DEV_HTTP_PORT}/`, readmeBody);
    const logs = await run('npm', ['run', '--silent', 'dev:logs'], { cwd: REPO_ROOT, env, timeout: 60_000 });

    // assert
    assert.equal(answer.status, 200, answer.body);
    assert.equal((JSON.parse(answer.body) as { written: number }).written, 1);
    const stored = logs.stdout.trim().split('\n').map((line) => JSON.parse(line) as AuditEvent);
    assert.equal(stored.length, 1);
    assert.equal(stored[0]!.auditID, sent.auditID);
    assert.equal(stored[0]!.annotations?.[Annotation.Cluster], 'local');
    assert.match(logs.stderr, /^1 events in 1 log group\(s\)/m);
  });

  it('made no connection other than to loopback', () => {
    assert.doesNotMatch(output, /deny-network/);
  });
});
