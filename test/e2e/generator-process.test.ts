// The generator commands as processes, end to end: the CLI writes a policy and a kubeconfig, and `replay` sends the
// fixture events to a `serve` process through the URL and token the kubeconfig names.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { validatePolicy } from '../../src/generate/policy-schema.ts';
import { plainLines } from '../support/event-lists.ts';
import { CLI_FROM_SOURCE, listeningUrl, spawnForTest } from '../support/process.ts';
import { createTestPki, type TestPki } from '../support/tls.ts';

const run = promisify(execFile);
const GENERATOR_COMMANDS = ['kubeconfig', 'policy', 'flags', 'kubeadm-patch', 'replay'];

describe('generator commands as processes', () => {
  let pki: TestPki;
  let dir: string;
  before(() => {
    pki = createTestPki();
    dir = mkdtempSync(join(tmpdir(), 'generator-e2e-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(pki.dir, { recursive: true, force: true });
  });

  test('each command is listed, and its --help exits 0', async () => {
    const overview = (await run(process.execPath, [...CLI_FROM_SOURCE, '--help'])).stdout;
    for (const name of GENERATOR_COMMANDS) {
      assert.match(overview, new RegExp(`^  ${name} +\\S`, 'm'));
      assert.match((await run(process.execPath, [...CLI_FROM_SOURCE, name, '--help'])).stdout, new RegExp(`^usage: kube-audit-relay ${name} `));
    }
  });

  test('policy and kubeconfig files written by the CLI drive a replay of the fixture events into serve', { timeout: 90_000 }, async (t) => {
    const policy = join(dir, 'policy.yaml');
    await run(process.execPath, [...CLI_FROM_SOURCE, 'policy', '--preset', 'default', '-o', policy]);
    assert.deepEqual(validatePolicy(parse(readFileSync(policy, 'utf8'))), []);

    const token = join(dir, 'token');
    writeFileSync(token, 'e2e-token-0123456789abcdef\n');
    const server = spawnForTest(t, process.execPath, [...CLI_FROM_SOURCE, 'serve', '--port', '0', '--tls-cert', pki.serverCert, '--tls-key', pki.serverKey, '--token-file', token], {
      env: { PATH: process.env.PATH },
    });
    const url = await listeningUrl(server);
    const kubeconfig = join(dir, 'webhook.yaml');
    await run(process.execPath, [...CLI_FROM_SOURCE, 'kubeconfig', '--server', `${url}audit`, '--token-file', token, '--ca-file', pki.caCert, '--embed', '-o', kubeconfig]);
    const config = parse(readFileSync(kubeconfig, 'utf8')) as { clusters: { cluster: { server: string } }[]; users: { user: { token: string } }[] };
    assert.equal(config.users[0]!.user.token, 'e2e-token-0123456789abcdef');

    const corpus = plainLines();
    const log = join(dir, 'audit.log');
    writeFileSync(log, `${corpus.join('\n')}\n`);
    const replay = await run(process.execPath, [...CLI_FROM_SOURCE, 'replay', log, '--server', config.clusters[0]!.cluster.server, '--token-file', token, '--ca-file', pki.caCert]);
    assert.match(replay.stdout, new RegExp(`${corpus.length} acknowledged, 0 failed`));
    assert.equal(await server.stop(), 0);
    assert.equal(server.stdout(), `${corpus.join('\n')}\n`);
  });
});
