// `npm run dev` and `npm run dev:logs` exactly as a developer types them: the README's example batch gets 200 from
// the handler under serverless offline, lands in the local CloudWatch Logs stand-in, and nothing leaves the machine.
// With a cold group, the stand-in creates no group by itself, so the sink's create-as-Infrequent-Access path runs.
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { Annotation } from '../../src/audit/annotations.ts';
import type { AuditEvent } from '../../src/audit/types.ts';
import { standInClient } from '../support/cloudwatch-client.ts';
import { send } from '../support/http-client.ts';
import { freePort, REPO_ROOT } from '../support/serverless.ts';

const run = promisify(execFile);
/** The body of the README's quick-start `curl`, which the README says also works against `npm run dev`. */
const readmeBody = /--data-binary '([^']+)' http:\/\/127\.0\.0\.1:3000\//.exec(readFileSync(`${REPO_ROOT}README.md`, 'utf8'))?.[1];
/** serverless offline builds the handler with esbuild before it serves: slow on a loaded 2-core machine. */
const START_TIMEOUT_MS = 90_000;

/** `npm run dev` started as a developer types it, with `args` after `--`; stopped with its whole process group. */
interface DevLoop {
  readonly env: NodeJS.ProcessEnv;
  /** Everything it printed so far. */
  output(): string;
  stop(): Promise<void>;
}

async function startDevLoop(args: readonly string[] = []): Promise<DevLoop> {
  // A base environment with none of the developer's AWS settings, plus a profile that must not be used.
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, AWS_PROFILE: 'must-not-be-used' };
  env.KAR_DEV_HTTP_PORT = String(await freePort());
  env.KAR_DEV_LAMBDA_PORT = String(await freePort());
  env.KAR_DEV_LOGS_PORT = String(await freePort());
  let output = '';
  // Its own process group, so stopping it stops npm, the dev tool and serverless together.
  const dev: ChildProcess = spawn('npm', ['run', 'dev', ...(args.length > 0 ? ['--', ...args] : [])], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const exited = new Promise<void>((resolve) => dev.once('close', () => resolve()));
  const stop = async (): Promise<void> => {
    if (dev.exitCode === null && dev.signalCode === null) process.kill(-dev.pid!, 'SIGTERM');
    const killer = setTimeout(() => process.kill(-dev.pid!, 'SIGKILL'), 10_000);
    await exited;
    clearTimeout(killer);
  };
  try {
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
  } catch (error) {
    await stop();
    throw error;
  }
  return { env, output: () => output, stop };
}

describe('npm run dev (offline AWS loop)', () => {
  let dev: DevLoop | undefined;

  before(async () => {
    dev = await startDevLoop();
  });

  after(async () => {
    await dev?.stop();
  });

  it('answers the README example with 200, and npm run dev:logs prints the stored event', async () => {
    // arrange
    assert.ok(readmeBody, 'the README has its curl example');
    const sent = (JSON.parse(readmeBody) as { items: AuditEvent[] }).items[0]!;

    // act
    const answer = await send(`http://127.0.0.1:${dev!.env.KAR_DEV_HTTP_PORT}/`, readmeBody);
    const logs = await run('npm', ['run', '--silent', 'dev:logs'], { cwd: REPO_ROOT, env: dev!.env, timeout: 60_000 });

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
    assert.doesNotMatch(dev!.output(), /deny-network/);
  });
});

describe('npm run dev with a cold group', () => {
  let dev: DevLoop | undefined;
  const COLD_GROUP = '/kube-audit-relay/local/audit-cold';

  before(async () => {
    // No stack runs in the dev loop: the Lambda's sink creates each group on first use, with the class the stack
    // would give it. Every event but a create goes cold.
    dev = await startDevLoop([
      '--param', 'LOG_GROUP=create',
      '--param', 'COLD_LOG_GROUP=create',
      '--param', `COLD_LOG_GROUP_NAME=${COLD_GROUP}`,
      '--param', 'TIERS={"default":"cold","rules":[{"tier":"hot","verbs":["create"]}]}',
    ]);
  });

  after(async () => {
    await dev?.stop();
  });

  it('stores a cold event in a group the sink created as Infrequent Access', async () => {
    assert.ok(readmeBody, 'the README has its curl example');
    const answer = await send(`http://127.0.0.1:${dev!.env.KAR_DEV_HTTP_PORT}/`, readmeBody);
    assert.equal(answer.status, 200, answer.body);

    const { logGroups = [] } = await standInClient(`http://127.0.0.1:${dev!.env.KAR_DEV_LOGS_PORT}`).send(new DescribeLogGroupsCommand({}));
    assert.deepEqual(logGroups.map(({ logGroupName, logGroupClass }) => ({ logGroupName, logGroupClass })), [{ logGroupName: COLD_GROUP, logGroupClass: 'INFREQUENT_ACCESS' }]);
    assert.doesNotMatch(dev!.output(), /deny-network/);
  });
});
