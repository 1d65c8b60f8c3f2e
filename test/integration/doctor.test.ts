// `kube-audit-relay doctor` against a real `serve` over TLS with a bearer token: it passes when the kubeconfig is
// right (and the relay stored the canary), and otherwise fails naming the step, for each way a kubeconfig goes wrong.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { renderWebhookKubeconfig, type WebhookKubeconfigSpec } from '../../src/generate/kubeconfig.ts';
import { runCommand, type CliResult } from '../support/cli.ts';
import { startServe, type ServeHandle } from '../support/serve.ts';
import { createTestPki, type TestPki } from '../support/tls.ts';

const TOKEN = 'doctor-token-5e0b8c2a7d194f36';

let pki: TestPki;
let relay: ServeHandle;
let port: string;
before(async () => {
  pki = createTestPki();
  writeFileSync(join(pki.dir, 'tokens'), `${TOKEN} doctor-test\n`);
  writeFileSync(join(pki.dir, 'token'), `${TOKEN}\n`);
  writeFileSync(join(pki.dir, 'wrong-token'), 'not-the-relays-token-0123456789\n');
  relay = await startServe(['--tls-cert', pki.serverCert, '--tls-key', pki.serverKey, '--token-file', join(pki.dir, 'tokens')]);
  port = new URL(relay.url).port;
});
after(() => relay.stop());

let written = 0;
/** Writes a kubeconfig made by the project's own generator (or raw YAML) and runs doctor on it. */
async function doctor(kubeconfig: WebhookKubeconfigSpec | string): Promise<CliResult> {
  const path = join(pki.dir, `webhook-${++written}.yaml`);
  writeFileSync(path, typeof kubeconfig === 'string' ? kubeconfig : renderWebhookKubeconfig(kubeconfig));
  // 10 s per network step: everything is on loopback, so only a wedged machine comes near it.
  return runCommand(['doctor', '--kubeconfig', path, '--timeout', '10']);
}

const good = (): WebhookKubeconfigSpec => ({
  server: `https://localhost:${port}/audit`,
  credentials: { tokenFile: join(pki.dir, 'token') },
  certificateAuthority: { path: pki.caCert },
});

/** The step doctor reports as failed, from its FAIL line. */
const failedStep = (result: CliResult): string | undefined => /^ {2}FAIL {2}(\S+)/m.exec(result.stdout)?.[1];

describe('doctor against a running relay', () => {
  test('a correct kubeconfig: every step passes, and the relay stored and counted the canary', async () => {
    const before = relay.stdout();
    const result = await doctor(good());
    assert.equal(result.code, 0, result.stdout + result.stderr);
    for (const step of ['kubeconfig', 'resolve', 'connect', 'tls', 'canary', 'stored']) assert.match(result.stdout, new RegExp(`^ {2}ok {4}${step} `, 'm'));
    assert.match(result.stdout, /stored it \(written 1, canaries 1, as cluster doctor-test\)/);
    const stored = relay.stdout().slice(before.length).trim().split('\n').map((line) => JSON.parse(line) as { annotations: Record<string, string>; user: { username: string } });
    assert.equal(stored.length, 1);
    assert.equal(stored[0]!.annotations['kube-audit-relay.io/canary'], 'true');
    assert.equal(stored[0]!.user.username, 'kube-audit-relay:doctor');
    const line = relay.logs().findLast((entry) => entry.status === 200);
    assert.equal(line?.canaries, 1);
    assert.equal(line?.written, 1);
  });

  test('embedded CA and token (certificate-authority-data, token) pass too', async () => {
    const result = await doctor({ ...good(), credentials: { token: TOKEN }, certificateAuthority: { data: pki.read(pki.caCert) } });
    assert.equal(result.code, 0, result.stdout);
  });

  const failures: [string, () => WebhookKubeconfigSpec | string, string, RegExp][] = [
    ['a wrong CA', () => ({ ...good(), certificateAuthority: { path: join(pki.dir, 'other-ca.crt') } }), 'tls', /not signed by certificate-authority .*other-ca\.crt[\s\S]*fix: put the CA/],
    ['a wrong token', () => ({ ...good(), credentials: { tokenFile: join(pki.dir, 'wrong-token') } }), 'canary', /refused the credentials \(401[\s\S]*fix: put the kubeconfig's token in the relay's --token-file/],
    ['a host name the certificate does not hold', () => ({ ...good(), tlsServerName: 'relay.wrong.example' }), 'tls', /not valid for relay\.wrong\.example \(tls-server-name\); it names DNS:localhost[\s\S]*fix: set tls-server-name/],
    ['an http URL with credentials', () => ({ server: `http://localhost:${port}/audit`, credentials: { tokenFile: join(pki.dir, 'token') } }), 'kubeconfig', /a token or basic auth with an http:\/\/ server: the API server sends credentials only over https/],
    ['a server URL with a query string', () => ({ ...good(), server: `https://localhost:${port}/audit?cluster=prod` }), 'kubeconfig', /query string, which the API server drops/],
    ['no relay on the port', () => ({ ...good(), server: 'https://127.0.0.1:1/audit' }), 'connect', /cannot connect to 127\.0\.0\.1 port 1: ECONNREFUSED[\s\S]*fix: nothing listens/],
    [
      'a current-context naming no context',
      () => `apiVersion: v1\nkind: Config\nclusters: [{name: relay, cluster: {server: "https://localhost:${port}/"}}]\ncontexts: [{name: relay, context: {cluster: relay}}]\ncurrent-context: other\n`,
      'kubeconfig',
      /no context named 'other' \(contexts: relay\)/,
    ],
  ];
  for (const [name, kubeconfig, step, message] of failures) {
    test(`${name}: fails at step ${step}, says how to fix it, and nothing is stored`, async () => {
      const before = relay.stdout();
      const result = await doctor(kubeconfig());
      assert.equal(result.code, 1, result.stdout + result.stderr);
      assert.equal(failedStep(result), step, result.stdout);
      assert.match(result.stdout, message);
      assert.match(result.stdout, new RegExp(`FAILED at step ${step}\\n$`));
      assert.equal(relay.stdout(), before, 'a failed doctor run stored nothing');
    });
  }
});
