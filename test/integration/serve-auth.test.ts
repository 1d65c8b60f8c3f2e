// Caller authentication through the real server: bearer tokens (several, for rotation), basic auth and client
// certificates (mTLS) over real TLS. A refused caller gets 401 and nothing is written.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TLSSocket } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { eventList, send } from '../support/http-client.ts';
import { Fixture, fixtureFile } from '../support/records.ts';
import { serveRefusal, startServe, type ServeHandle } from '../support/serve.ts';
import { createTestPki, type TestPki } from '../support/tls.ts';

const lines = fixtureFile(Fixture.Metadata);
const body = eventList(lines);
const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

let pki: TestPki;
let ca: string;
before(() => {
  pki = createTestPki();
  ca = pki.read(pki.caCert);
  writeFileSync(join(pki.dir, 'tokens'), 'current-token-7b1e0c5d9a2f4e68\nnext-token-3c8d2a9f1e7b5064\n');
  writeFileSync(join(pki.dir, 'basic'), 'kube-apiserver:s3cret-passw0rd\nbackfill:an0ther:with-colon\n');
});

describe('bearer tokens and basic auth', () => {
  let server: ServeHandle;
  before(async () => {
    server = await startServe(['--tls-cert', pki.serverCert, '--tls-key', pki.serverKey, '--token-file', join(pki.dir, 'tokens'), '--basic-auth-file', join(pki.dir, 'basic')]);
  });
  after(() => server.stop());

  const refused: [string, Record<string, string>][] = [
    ['no credentials', {}],
    ['a wrong token', { authorization: 'Bearer current-token-7b1e0c5d9a2f4e69' }],
    ['a token prefix', { authorization: 'Bearer current-token' }],
    ['a wrong password', { authorization: basic('kube-apiserver', 's3cret-passw0rd!') }],
    ['an unknown user', { authorization: basic('mallory', 's3cret-passw0rd') }],
    ['an unknown scheme', { authorization: 'Digest username="kube-apiserver"' }],
  ];
  for (const [name, headers] of refused) {
    test(`${name}: 401, nothing written`, async () => {
      const answer = await send(server.url, body, { ca, headers });
      assert.equal(answer.status, 401, answer.body);
      assert.match(String(answer.headers['www-authenticate']), /Bearer/);
      assert.equal(server.stdout(), '');
    });
  }

  test('either token is accepted while rotating, and each basic credential', async () => {
    const accepted = [
      'Bearer current-token-7b1e0c5d9a2f4e68',
      'bearer next-token-3c8d2a9f1e7b5064',
      basic('kube-apiserver', 's3cret-passw0rd'),
      basic('backfill', 'an0ther:with-colon'),
    ];
    for (const [index, authorization] of accepted.entries()) {
      const batch = [lines[index]!];
      const answer = await send(server.url, eventList(batch), { ca, headers: { authorization } });
      assert.equal(answer.status, 200, `${authorization.split(' ')[0]} #${index}: ${answer.body}`);
    }
    assert.equal(server.stdout(), `${lines.slice(0, 4).join('\n')}\n`);
  });
});

describe('client certificates (mTLS)', () => {
  let server: ServeHandle;
  before(async () => {
    server = await startServe(['--tls-cert', pki.serverCert, '--tls-key', pki.serverKey, '--client-ca', pki.caCert]);
  });
  after(() => server.stop());

  test('a kubelet probe without a certificate: 200 on every health path, and 401 for a POST, nothing written', async () => {
    for (const path of ['/healthz', '/livez', '/readyz']) {
      const probe = await send(server.url, undefined, { ca, method: 'GET', path });
      assert.equal(probe.status, 200, `${path}: ${probe.body}`);
    }
    const answer = await send(server.url, body, { ca });
    assert.equal(answer.status, 401, answer.body);
    assert.match(answer.body, /no client certificate: .*--client-ca/);
    assert.equal(server.stdout(), '');
  });

  test('a certificate from another CA: 401 for every POST, logged once with the reason and the peer address', async () => {
    const stranger = { ca, cert: pki.read(pki.strangerCert), key: pki.read(pki.strangerKey) };
    for (let attempt = 0; attempt < 3; attempt++) {
      const answer = await send(server.url, body, stranger);
      assert.equal(answer.status, 401, answer.body);
      assert.match(answer.body, /client certificate not accepted/);
    }
    assert.equal(server.stdout(), '');
    const logged = server.logs().filter((entry) => /client certificate not accepted/.test(String(entry.msg)));
    assert.equal(logged.length, 1, JSON.stringify(logged));
    assert.equal(logged[0]!.remote, '127.0.0.1');
    assert.match(String(logged[0]!.reason), /UNABLE_TO_VERIFY_LEAF_SIGNATURE|unable to verify/i);
  });

  test('a handshake that fails (plain http to the https port) is logged once with the reason and the peer address', async () => {
    const plain = server.url.replace('https:', 'http:');
    for (let attempt = 0; attempt < 3; attempt++) {
      await send(plain, body).catch(() => undefined);
    }
    const logged = server.logs().filter((entry) => entry.msg !== undefined && /TLS handshake failed/.test(String(entry.msg)));
    assert.equal(logged.length, 1, JSON.stringify(logged));
    assert.equal(logged[0]!.remote, '127.0.0.1');
    assert.match(String(logged[0]!.reason), /http request|wrong version/i);
  });

  test("the API server's client certificate: stored, and the log names the certificate", async () => {
    // Node builds the whole certificate object on every getPeerCertificate call: serve reads it once per request.
    const prototype = TLSSocket.prototype;
    const real = prototype.getPeerCertificate;
    const port = Number(new URL(server.url).port);
    let reads = 0;
    prototype.getPeerCertificate = function (this: TLSSocket, ...args: []) {
      // The client's socket checks the server's certificate too: only serve's side is counted.
      if (this.localPort === port) reads++;
      return real.apply(this, args);
    } as typeof real;
    let answer: Awaited<ReturnType<typeof send>>;
    try {
      answer = await send(server.url, body, { ca, cert: pki.read(pki.clientCert), key: pki.read(pki.clientKey) });
    } finally {
      prototype.getPeerCertificate = real;
    }
    assert.equal(reads, 1, 'the peer certificate is read once for the request');
    assert.equal(answer.status, 200, answer.body);
    assert.equal(server.stdout(), `${lines.join('\n')}\n`);
    assert.ok(server.logs().some((entry) => entry.clientCertificate === 'kube-apiserver-audit'));
  });
});

describe('settings that cannot work are refused at start, all at once', () => {
  test('every problem named with its flag and variable, exit 2', async () => {
    const { code, stderr } = await serveRefusal(['--tls-cert', pki.serverCert, '--client-ca', join(pki.dir, 'missing.crt'), '--port', 'eighty'], {
      AUTH_TOKENS: 'short',
      MAX_EVENT_BYTES: '100',
      DROP_RULES: '[{"verb":["get"]}]',
    });
    assert.equal(code, 2);
    for (const expected of [
      /--tls-key \(TLS_KEY_FILE\): is needed too/,
      /--client-ca \(TLS_CLIENT_CA_FILE\): .*missing\.crt does not exist/,
      /--port \(LISTEN_PORT\): .*whole number/,
      /AUTH_TOKENS: every token must be at least 16 characters/,
      /--max-event-bytes \(MAX_EVENT_BYTES\): must be a whole number of at least 4096, not "100"/,
      /DROP_RULES\[0\]: unknown field "verb"/,
    ]) {
      assert.match(stderr, expected);
    }
  });

  test('an unknown flag is a usage error with the usage text', async () => {
    const { code, stderr } = await serveRefusal(['--tls-certificate', 'x']);
    assert.equal(code, 2);
    assert.match(stderr, /Unknown option '--tls-certificate'/);
    assert.match(stderr, /usage: kube-audit-relay serve/);
  });
});
