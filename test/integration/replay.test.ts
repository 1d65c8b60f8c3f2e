import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../../src/cli/main.ts';
import { runCommand } from '../support/cli.ts';
import { repeatedLines } from '../support/event-lists.ts';
import { Fixture, fixtureFile } from '../support/records.ts';
import { startServe } from '../support/serve.ts';
import { createTestPki, type TestPki } from '../support/tls.ts';

/** A thousand fixture events, each with its own auditID, that serve stores byte for byte. */
const corpus = repeatedLines(1_000);

interface Received {
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly items: unknown[];
}

/** A webhook endpoint that answers each POST with the next status from a script (the last one repeats). */
async function scriptedEndpoint(statuses: number[]): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const list = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { kind: string; items: unknown[] };
      assert.equal(list.kind, 'EventList');
      received.push({ url: request.url ?? '', headers: request.headers, items: list.items });
      response.writeHead(statuses[Math.min(received.length - 1, statuses.length - 1)]!).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/audit`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('replay', () => {
  let pki: TestPki;
  let dir: string;
  let log: string;
  before(() => {
    pki = createTestPki();
    dir = mkdtempSync(join(tmpdir(), 'replay-'));
    log = join(dir, 'audit.log');
    writeFileSync(log, `${corpus.join('\n')}\n`);
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(pki.dir, { recursive: true, force: true });
  });

  test('delivers every corpus event to the local receiver over https with a bearer token, byte for byte and in order', async () => {
    const tokens = join(dir, 'tokens');
    writeFileSync(tokens, 'replay-token-0123456789abcdef\n');
    const server = await startServe(['--tls-cert', pki.serverCert, '--tls-key', pki.serverKey, '--token-file', tokens]);
    let result;
    try {
      result = await runCommand(['replay', log, '--server', `${server.url}audit`, '--token-file', tokens, '--ca-file', pki.caCert]);
    } finally {
      assert.equal(await server.stop(), 0);
    }
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`^sent ${corpus.length} events in \\d+ batches in [\\d.]+ s: ${corpus.length} acknowledged, 0 failed \\(0 batches\\), 0 retries, 0 lines skipped\\n$`));
    const written = server.stdout().split('\n');
    assert.equal(written.pop(), '');
    assert.deepEqual(written, corpus);
    const posts = server.logs().filter((entry) => entry.method === 'POST');
    assert.ok(posts.every((entry) => (entry.received as number) <= 400));
    assert.ok(posts.every((entry) => entry.path === '/audit'));
  });

  test('delivers from stdin over mutual TLS, in batches of --batch', async () => {
    const server = await startServe(['--tls-cert', pki.serverCert, '--tls-key', pki.serverKey, '--client-ca', pki.caCert]);
    const lines = corpus.slice(0, 250);
    let result;
    try {
      result = await runCommand(
        ['replay', '-', '--server', server.url, '--client-cert', pki.clientCert, '--client-key', pki.clientKey, '--ca-file', pki.caCert, '--batch', '100'],
        { stdin: `${lines.join('\n')}\n` },
      );
    } finally {
      assert.equal(await server.stop(), 0);
    }
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(server.stdout().split('\n').slice(0, -1), lines);
    assert.ok(server.logs().filter((entry) => entry.method === 'POST').every((entry) => (entry.received as number) <= 100));
  });

  test('retries any non-2xx with backoff, as the API server does, and sends what the webhook sends', async () => {
    const endpoint = await scriptedEndpoint([503, 400, 429, 200]);
    try {
      const started = Date.now();
      const lines = corpus.filter((line) => line.includes('"apiVersion":"audit.k8s.io/v1beta1"')).slice(0, 100);
      const result = await runCommand(['replay', '-', '--server', endpoint.url, '--initial-backoff', '40ms', '--timeout', '5s'], { stdin: lines.join('\n') });
      const elapsed = Date.now() - started;
      assert.equal(result.code, 0, result.stderr);
      assert.equal(endpoint.received.length, 4);
      // Waits of 40, 60 and 90 ms, each up to 20% longer.
      assert.ok(elapsed >= 190, `${elapsed} ms`);
      assert.match(result.stderr, /batch 1: HTTP 503, retrying in 0\.0 s\nbatch 1: HTTP 400, retrying/);
      assert.match(result.stdout, /3 retries/);
      const last = endpoint.received.at(-1)!;
      assert.equal(last.url, '/audit?timeout=5s');
      assert.deepEqual(last.items, lines.map((line) => JSON.parse(line)));
      assert.equal(last.headers['content-type'], 'application/json');
      assert.equal(last.headers.accept, 'application/json, */*');
    } finally {
      await endpoint.close();
    }
  });

  test('gives up on a batch after 5 attempts, counts its events as failed, goes on with the next, exits 1', async () => {
    const endpoint = await scriptedEndpoint([500]);
    try {
      const result = await runCommand(['replay', log, '--server', endpoint.url, '--initial-backoff', '1ms']);
      assert.equal(result.code, 1);
      const batches = Number(/in (\d+) batches/.exec(result.stdout)![1]);
      assert.equal(endpoint.received.length, 5 * batches);
      assert.match(result.stdout, new RegExp(`0 acknowledged, ${corpus.length} failed \\(${batches} batches\\), ${4 * batches} retries`));
      assert.match(result.stderr, /batch 1 of \d+ events failed after 5 attempts \(HTTP 500\): the API server would drop it/);
    } finally {
      await endpoint.close();
    }
  });

  test('--rate spaces the batches out', async () => {
    const endpoint = await scriptedEndpoint([200]);
    try {
      // One API version and small events, so that only --batch splits them.
      const lines = repeatedLines(200, fixtureFile(Fixture.Metadata));
      const started = Date.now();
      const result = await runCommand(['replay', '-', '--server', endpoint.url, '--batch', '50', '--rate', '400'], { stdin: lines.join('\n') });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(endpoint.received.length, 4);
      // Batches go at 0, 125, 250 and 375 ms.
      assert.ok(Date.now() - started >= 370, `${Date.now() - started} ms`);
    } finally {
      await endpoint.close();
    }
  });

  test('skips lines that are not events, naming only their number, and exits 1', async () => {
    const endpoint = await scriptedEndpoint([200]);
    try {
      const result = await runCommand(['replay', '-', '--server', endpoint.url], { stdin: `${corpus[0]}\n{"secret":"hunter2"\n[1]\n${corpus[1]}\n` });
      assert.equal(result.code, 1);
      assert.equal(result.stderr, 'line 2 skipped: not JSON\nline 3 skipped: not an audit event (no auditID)\n');
      assert.deepEqual(endpoint.received.flatMap((received) => received.items), [JSON.parse(corpus[0]!), JSON.parse(corpus[1]!)]);
      assert.match(result.stdout, /2 acknowledged, 0 failed .* 2 lines skipped/);
    } finally {
      await endpoint.close();
    }
  });

  test('shows a self-overwriting progress line on a terminal', async () => {
    const endpoint = await scriptedEndpoint([200]);
    try {
      const stderr = Object.assign(new PassThrough(), { isTTY: true });
      let err = '';
      stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
      const code = await runCli(['replay', log, '--server', endpoint.url], {
        stdin: new PassThrough(),
        stdout: new PassThrough(),
        stderr,
        env: {},
        signal: new AbortController().signal,
      });
      assert.equal(code, 0);
      assert.match(err, new RegExp(`\\r\\x1b\\[K${corpus.length} events sent in \\d+ batches: ${corpus.length} acknowledged, 0 failed\\n$`));
      assert.ok(err.split('\r\x1b[K').length > 3, 'updated after each batch');
    } finally {
      await endpoint.close();
    }
  });

  test('stops cleanly when interrupted mid-batch: summary says so, exit 1', async () => {
    const hanging = createServer(() => undefined);
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    try {
      const controller = new AbortController();
      const stdout = new PassThrough();
      let out = '';
      stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
      const running = runCli(['replay', log, '--server', `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/`], {
        stdin: new PassThrough(),
        stdout,
        stderr: new PassThrough(),
        env: {},
        signal: controller.signal,
      });
      setTimeout(() => controller.abort(new Error('SIGTERM')), 200);
      assert.equal(await running, 1);
      assert.match(out, /^interrupted: sent \d+ events in 1 batches in [\d.]+ s: 0 acknowledged, 0 failed/);
    } finally {
      hanging.closeAllConnections();
      await new Promise((resolve) => hanging.close(resolve));
    }
  });

  test('a log that cannot be read partway is an error naming it, exit 1', async () => {
    const result = await runCommand(['replay', dir, '--server', 'http://127.0.0.1:1/']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /replay stopped after 0 events: cannot read .*: EISDIR/);
  });

  test('stops at the first 401 without retrying, printing the relay\'s reason and the flags to check, exit 1', async () => {
    // arrange: the relay accepts one token; replay sends another
    const tokens = join(dir, 'accepted-token');
    writeFileSync(tokens, 'accepted-token-0123456789abcdef\n');
    const server = await startServe(['--tls-cert', pki.serverCert, '--tls-key', pki.serverKey, '--token-file', tokens]);
    let result;
    try {
      // act
      result = await runCommand(['replay', log, '--server', server.url, '--token-env', 'T', '--ca-file', pki.caCert, '--initial-backoff', '1ms'], {
        env: { T: 'wrong-token-0123456789abcdef' },
      });
    } finally {
      assert.equal(await server.stop(), 0);
    }

    // assert
    assert.equal(result.code, 1);
    assert.equal(server.logs().filter((entry) => entry.method === 'POST').length, 1, 'one attempt, no retries');
    assert.equal(server.stdout(), '');
    assert.match(
      result.stderr,
      /^kube-audit-relay replay: replay stopped at batch 1, 0 events acknowledged before it: the relay refused the credentials with HTTP 401 \(.*bearer token.*nothing was written\); check --token-file, --token-env/m,
    );
  });

  test('a 403 is final too, and says when no credential was sent', async () => {
    const endpoint = await scriptedEndpoint([403]);
    try {
      const result = await runCommand(['replay', log, '--server', endpoint.url, '--initial-backoff', '1ms']);
      assert.equal(result.code, 1);
      assert.equal(endpoint.received.length, 1);
      assert.match(result.stderr, /refused the credentials with HTTP 403; no credential was sent: give --token-file/);
    } finally {
      await endpoint.close();
    }
  });

  test('an untrusted certificate stops at once and suggests --ca-file', async () => {
    const server = await startServe(['--tls-cert', pki.serverCert, '--tls-key', pki.serverKey]);
    let result;
    try {
      result = await runCommand(['replay', log, '--server', server.url, '--initial-backoff', '1ms']);
    } finally {
      assert.equal(await server.stop(), 0);
    }
    assert.equal(result.code, 1);
    assert.match(result.stderr, /the relay's certificate is not trusted \([A-Z_]+: .*\): give --ca-file with the CA that signed it/);
    assert.doesNotMatch(result.stderr, /retrying/);
  });

  test('refusals, exit 2', async () => {
    const cases: [string[], RegExp, Record<string, string>?][] = [
      [['--server', 'http://127.0.0.1:1/'], /give exactly one audit log: a FILE, or - for stdin/],
      [[log], /--server URL is required/],
      [[log, '--server', 'http://127.0.0.1:1/', '--token-env', 'T'], /credentials with an http:\/\/ server/, { T: 'x' }],
      [[log, '--server', 'https://127.0.0.1:1/?code=abc'], /query string/],
      [[join(dir, 'missing.log'), '--server', 'http://127.0.0.1:1/'], /^kube-audit-relay replay: audit log .*missing\.log does not exist\n$/],
      [[log, '--server', 'http://127.0.0.1:1/', '--initial-backoff', 'soon'], /--initial-backoff must be a duration such as 10s, 500ms or 1m, got 'soon'/],
      [[log, '--server', 'http://127.0.0.1:1/', '--batch', '0'], /--batch must be a whole number from 1/],
    ];
    for (const [args, message, env] of cases) {
      const result = await runCommand(['replay', ...args], { env: env ?? {} });
      assert.equal(result.code, 2, `${args.join(' ')}\n${result.stderr}`);
      assert.match(result.stderr, message);
    }
  });
});
