// A corpus of hostile requests against one running receiver: each gets the right 4xx and a clear message, the
// process keeps serving, and nothing is written. Tallied into the README's hostile-testing table.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { eventList, send } from '../support/http-client.ts';
import { Fixture, fixtureFile } from '../support/records.ts';
import { startServe, type ServeHandle } from '../support/serve.ts';

const lines = fixtureFile(Fixture.Metadata);
const valid = eventList(lines.slice(0, 3));
const MiB = 1024 * 1024;

/** Sends raw bytes on a socket and resolves with what came back before the server closed it. */
function rawExchange(port: number, chunks: { data: string; delayMs: number }[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString('latin1')));
    socket.on('close', () => resolve(received));
    socket.on('error', (error) => ((error as NodeJS.ErrnoException).code === 'ECONNRESET' ? resolve(received) : reject(error)));
    let delay = 0;
    for (const { data, delayMs } of chunks) {
      delay += delayMs;
      setTimeout(() => socket.writable && socket.write(data), delay);
    }
  });
}

describe('hostile input against the local receiver', () => {
  const output = join(mkdtempSync(join(tmpdir(), 'kar-hostile-')), 'audit.log');
  let server: ServeHandle;
  let port: number;
  before(async () => {
    server = await startServe(['--output', output, '--request-timeout-ms', '1500']);
    port = Number(new URL(server.url).port);
  });
  after(async () => {
    // Alive after everything: a valid batch is stored whole, and only it.
    const answer = await send(server.url, valid);
    assert.equal(answer.status, 200, answer.body);
    assert.equal(readFileSync(output, 'utf8'), `${lines.slice(0, 3).join('\n')}\n`);
    assert.equal(await server.stop(), 0);
  });

  const nested = (depth: number): string => `${'{"a":['.repeat(depth)}1${']}'.repeat(depth)}`;
  const cases: { name: string; body: () => string | Uint8Array; status: number; message: RegExp; headers?: Record<string, string> }[] = [
    { name: 'empty body', body: () => '', status: 400, message: /empty/ },
    { name: 'not JSON', body: () => 'hello', status: 400, message: /not a JSON object/ },
    { name: 'truncated JSON', body: () => valid.slice(0, valid.length / 2), status: 400, message: /not valid JSON/ },
    { name: 'a JSON array', body: () => `[${lines[0]}]`, status: 400, message: /array/ },
    { name: 'a JSON number', body: () => '42', status: 400, message: /not a JSON object/ },
    { name: 'null', body: () => 'null', status: 400, message: /not a JSON object/ },
    { name: 'wrong kind', body: () => valid.replace('"kind":"EventList"', '"kind":"PodList"'), status: 400, message: /kind "PodList"/ },
    { name: 'wrong apiVersion', body: () => valid.replace('"apiVersion":"audit.k8s.io/v1"', '"apiVersion":"v1"'), status: 400, message: /apiVersion "v1"/ },
    { name: 'items not an array', body: () => '{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":"all"}', status: 400, message: /items is not an array/ },
    { name: 'item not an object', body: () => eventList([lines[0]!, '[]']), status: 400, message: /items\[1\] is not an object/ },
    { name: 'nested 100,000 levels deep', body: () => eventList([nested(100_000)]), status: 400, message: /nest/ },
    { name: 'nested 100,000 levels inside an event', body: () => eventList([lines[0]!.replace('{', `{"x":${nested(100_000)},`)]), status: 400, message: /nest/ },
    { name: 'a 100 MB body', body: () => Buffer.alloc(100 * MiB, 0x20), status: 413, message: /67108864-byte limit/ },
    { name: 'invalid UTF-8', body: () => Buffer.concat([Buffer.from(valid.slice(0, 50)), Buffer.from([0xc3, 0x28]), Buffer.from(valid.slice(50))]), status: 400, message: /UTF-8/ },
    { name: 'a byte order mark', body: () => `\uFEFF${valid}`, status: 400, message: /byte order mark/ },
    { name: 'duplicate keys', body: () => eventList([lines[0]!.replace('{', '{"auditID":"x",')]), status: 400, message: /duplicate object key/ },
    { name: 'a gzip-encoded body', body: () => gzipSync(valid), status: 415, message: /content-encoding "gzip"/, headers: { 'content-encoding': 'gzip' } },
    { name: 'an auditID of 100 KB', body: () => eventList([lines[0]!.replace(/"auditID":"[^"]+"/, `"auditID":"${'a'.repeat(100_000)}"`)]), status: 400, message: /auditID/ },
    { name: 'stage not a string', body: () => eventList([lines[0]!.replace(/"stage":"[^"]+"/, '"stage":7')]), status: 400, message: /stage/ },
    { name: 'annotations with a non-string value', body: () => eventList([lines[0]!.replace('{', '{"annotations":{"a":{"b":1}},').replace(/,"annotations":\{[^}]*\}/, '')]), status: 400, message: /annotations/ },
  ];
  for (const { name, body, status, message, headers } of cases) {
    test(`${name}: ${status}`, async () => {
      const answer = await send(server.url, body(), headers ? { headers } : {});
      assert.equal(answer.status, status, answer.body);
      assert.match((JSON.parse(answer.body) as { message: string }).message, message);
      assert.equal(readFileSync(output, 'utf8'), '');
    });
  }

  test('__proto__ and constructor keys are kept as data and pollute nothing', async () => {
    const event = lines[0]!.replace('{', '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},');
    const withAnnotations = lines[1]!.replace('{', '{"annotations":{"__proto__":"x","constructor":"y"},').replace(/,"annotations":\{[^}]*\}/, '');
    const probe = await startServe(['--cluster', 'c1'], { REDACT_PATHS: '__proto__.polluted' });
    try {
      const answer = await send(probe.url, eventList([event, withAnnotations]));
      assert.equal(answer.status, 200, answer.body);
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
      const [first, second] = probe.stdout().trim().split('\n').map((line) => JSON.parse(line) as Record<string, any>);
      assert.ok(Object.hasOwn(first!, '__proto__'), '__proto__ stays an own data field');
      assert.equal(first!.__proto__.polluted, '[redacted]');
      assert.equal(second!.annotations.constructor, 'y');
      assert.equal(second!.annotations['kube-audit-relay.io/cluster'], 'c1');
    } finally {
      await probe.stop();
    }
  });

  test('a client that sends its headers too slowly is cut off with 408', async () => {
    const started = Date.now();
    const reply = await rawExchange(port, [
      { data: 'POST / HTTP/1.1\r\nHost: x\r\n', delayMs: 0 },
      ...Array.from({ length: 30 }, () => ({ data: 'X-Slow: 1\r\n', delayMs: 200 })),
    ]);
    assert.match(reply, /^HTTP\/1\.1 408/);
    assert.ok(Date.now() - started < 5_000, 'disconnected within the timeout, not after the client finished');
  });

  test('a client that sends its body too slowly is cut off with 408', async () => {
    const head = `POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${valid.length}\r\n\r\n`;
    const reply = await rawExchange(port, [
      { data: head, delayMs: 0 },
      ...Array.from({ length: 20 }, (_, i) => ({ data: valid.slice(i * 10, i * 10 + 10), delayMs: 200 })),
    ]);
    assert.match(reply, /^HTTP\/1\.1 408/);
  });

  test('headers over 16 KB: 431', async () => {
    const reply = await rawExchange(port, [{ data: `POST / HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`, delayMs: 0 }]);
    assert.match(reply, /^HTTP\/1\.1 431/);
  });

  test('500 concurrent connections each with a refused batch: every one answered', async () => {
    const answers = await Promise.all(Array.from({ length: 500 }, () => send(server.url, '{"kind":"EventList"')));
    assert.deepEqual(new Set(answers.map((answer) => answer.status)), new Set([400]));
  });
});
