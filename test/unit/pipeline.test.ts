import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { Annotation } from '../../src/audit/annotations.ts';
import { type Env, readPipelineConfig, SettingsReader } from '../../src/config.ts';
import { createPipeline, type Pipeline, type ReceiveRequest, type ReceiveResult } from '../../src/pipeline.ts';
import { withDeduplication } from '../../src/sinks/deduplicate.ts';
import { createFileSink, createStreamSink } from '../../src/sinks/json-lines.ts';
import type { Sink } from '../../src/sinks/sink.ts';
import { realCorpusFiles, realCorpusSkip } from '../support/real-corpus.ts';
import { Fixture, fixtureFile, fixtureFiles } from '../support/records.ts';
import { waitFor } from '../support/wait-for.ts';

const TOKEN = 'receive-test-token-0123456789';
const files = fixtureFiles();
const all = files.flatMap((file) => file.lines);
const metadata = fixtureFile(Fixture.Metadata);
const v1beta1 = fixtureFile(Fixture.V1beta1);
const eventList = (items: readonly string[], apiVersion = 'audit.k8s.io/v1'): string =>
  `{"kind":"EventList","apiVersion":"${apiVersion}","metadata":{},"items":[${items.join(',')}]}`;
const RECEIVED_AT = Date.parse('2026-11-22T21:00:00Z');

const dir = mkdtempSync(join(tmpdir(), 'kube-audit-relay-receive-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let outputs = 0;

function pipeline(sink: Sink, env: Env = {}): Pipeline {
  const reader = new SettingsReader({ AUTH_TOKENS: TOKEN, ...env });
  const config = readPipelineConfig(reader);
  reader.finish();
  return createPipeline({ config, sink, now: () => RECEIVED_AT });
}

async function fileTarget(env: Env = {}): Promise<{ path: string; relay: Pipeline; sink: Sink }> {
  const path = join(dir, `audit-${outputs++}.log`);
  // Wrapped as every output is, so a retried batch is recognised.
  const sink = withDeduplication(await createFileSink(path));
  return { path, relay: pipeline(sink, env), sink };
}

const post = (body: string | Uint8Array, headers: Record<string, string> = {}): ReceiveRequest => ({
  method: 'POST',
  path: '/audit',
  headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...headers },
  body: typeof body === 'string' ? new TextEncoder().encode(body) : body,
});

function assertAnswer(result: ReceiveResult, status: number, message: RegExp): void {
  assert.equal(result.status, status, result.message);
  assert.match(result.message, message);
  assert.equal(result.headers['content-type'], 'application/json');
  assert.deepEqual(JSON.parse(result.body), { message: result.message, ...(result.cluster === undefined ? {} : { cluster: result.cluster }), ...result.counts });
}

/** Secrets' data is redacted by default (tested in redact.test.ts); here every byte must arrive as sent. */
const AS_SENT: Env = { REDACT_SECRETS: 'false' };

async function storesUnchangedOnce(lines: readonly string[]): Promise<void> {
  const { path, relay, sink } = await fileTarget(AS_SENT);
  const batches = [];
  for (let from = 0; from < lines.length; from += 400) batches.push(lines.slice(from, from + 400));
  let bytes = 0;
  for (const batch of batches) {
    const result = await relay.receive(post(eventList(batch)));
    assertAnswer(result, 200, new RegExp(`^stored ${batch.length} of ${batch.length} events$`));
    assert.equal(result.counts.written, batch.length);
    assert.equal(result.counts.received, batch.length);
    bytes += result.counts.bytes;
  }
  const written = readFileSync(path, 'utf8');
  assert.equal(written, `${lines.join('\n')}\n`);
  assert.equal(bytes, Buffer.byteLength(written) - lines.length);

  const retry = await relay.receive(post(eventList(batches[0]!)));
  assertAnswer(retry, 200, /^stored \d+ of \d+ events$/);
  assert.deepEqual([retry.counts.written, retry.counts.duplicates], [0, batches[0]!.length]);
  assert.equal(readFileSync(path, 'utf8'), written);
  await sink.close();
}

describe('stored batches of the real corpus', { skip: realCorpusSkip() }, () => {
  for (const { name, lines } of realCorpusFiles()) {
    it(`writes ${name} to the file sink unchanged, counted, and a retry only once`, () => storesUnchangedOnce(lines));
  }
});

describe('stored batches', () => {
  for (const { name, lines } of files) {
    it(`writes ${name} to the file sink unchanged, counted, and a retry only once`, () => storesUnchangedOnce(lines));
  }

  it('keeps every line whole when batches arrive at once, and stores a batch sent twice at once only once', async () => {
    const { path, relay } = await fileTarget(AS_SENT);
    const batches = Array.from({ length: 8 }, (_, index) => all.slice(index * 8, index * 8 + 8));
    const results = await Promise.all([...batches, batches[0]!].map((batch) => relay.receive(post(eventList(batch)))));
    assert.ok(results.every((result) => result.status === 200));
    assert.equal(results.reduce((sum, result) => sum + result.counts.written, 0), 64);
    assert.equal(results.reduce((sum, result) => sum + result.counts.duplicates, 0), 8);
    const written = readFileSync(path, 'utf8').trimEnd().split('\n');
    assert.deepEqual([...written].sort(), all.slice(0, 64).sort());
  });

  it('counts API versions as received, items inheriting their list\'s', async () => {
    const { relay } = await fileTarget();
    const result = await relay.receive(post(eventList(all, 'audit.k8s.io/v1beta1')));
    const own = all.map((line) => (JSON.parse(line) as { apiVersion?: string }).apiVersion ?? 'audit.k8s.io/v1beta1');
    const expected: Record<string, number> = {};
    for (const version of own) expected[version] = (expected[version] ?? 0) + 1;
    assert.deepEqual(result.counts.apiVersions, expected);
    const legacy = await relay.receive(post(eventList(v1beta1.slice(0, 10), 'audit.k8s.io/v1beta1')));
    assert.deepEqual(legacy.counts.apiVersions, { 'audit.k8s.io/v1beta1': 10 });
  });

  it('accepts a single Event and JSON lines, writing the cluster name into annotations', async () => {
    const { path, relay } = await fileTarget({ CLUSTER_NAME: 'prod' });
    assertAnswer(await relay.receive(post(metadata[0]!)), 200, /^stored 1 of 1 events$/);
    assertAnswer(await relay.receive(post(`${metadata.slice(1, 4).join('\r\n')}\r\n`)), 200, /^stored 3 of 3 events$/);
    const written = readFileSync(path, 'utf8').trimEnd().split('\n');
    assert.deepEqual(
      written.map((line) => JSON.parse(line) as Record<string, unknown>),
      metadata.slice(0, 4).map((line) => {
        const event = JSON.parse(line) as { annotations?: Record<string, string> };
        return { ...event, annotations: { ...event.annotations, [Annotation.Cluster]: 'prod' } };
      }),
    );
  });

  it('counts filtered, redacted and truncated events', async () => {
    const { path, relay } = await fileTarget({ ...AS_SENT, DROP_RULES: '[{"verbs":["watch"]}]', MAX_EVENT_BYTES: '65536', REDACT_PATHS: 'userAgent' });
    const result = await relay.receive(post(eventList(all)));
    const kept = all.filter((line) => (JSON.parse(line) as { verb: string }).verb !== 'watch');
    // No event is near the limit, so redacting userAgent cannot move one across it.
    const large = kept.filter((line) => Buffer.byteLength(line) > 70_000);
    assert.ok(large.length > 0 && kept.every((line) => Buffer.byteLength(line) > 70_000 || Buffer.byteLength(line) < 60_000));
    assert.deepEqual(result.counts.filtered, all.length - kept.length);
    assert.equal(result.counts.written, kept.length);
    assert.equal(result.counts.redacted, kept.length);
    assert.equal(result.counts.truncated, large.length);
    const written = readFileSync(path, 'utf8').trimEnd().split('\n');
    assert.equal(written.length, kept.length);
    assert.ok(written.every((line) => Buffer.byteLength(line) <= 65_536));
    assert.equal(written.filter((line) => line.includes(`"${Annotation.Truncated}":"true"`)).length, large.length);
  });

  it('answers 200 without calling the sink when every event is filtered', async () => {
    const { path, relay } = await fileTarget({ DROP_RULES: '[{"stages":["ResponseComplete","RequestReceived","ResponseStarted","Panic"]}]' });
    const result = await relay.receive(post(eventList(metadata)));
    assertAnswer(result, 200, new RegExp(`^stored 0 of ${metadata.length} events \\(${metadata.length} filtered\\)$`));
    assert.equal(readFileSync(path, 'utf8'), '');
  });
});

describe('the status contract', () => {
  it('answers only after the sink has the records', async () => {
    const pending: (() => void)[] = [];
    let received = '';
    const slow = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        received += chunk.toString('utf8');
        pending.push(() => callback());
      },
    });
    const relay = pipeline(createStreamSink(slow));
    let settled = false;
    const answer = relay.receive(post(eventList(metadata.slice(0, 3)))).then((result) => {
      settled = true;
      return result;
    });
    await waitFor(() => pending.length > 0);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(settled, false, 'answered before the stream took the records');
    assert.equal(received, `${metadata.slice(0, 3).join('\n')}\n`);
    pending.shift()!();
    assertAnswer(await answer, 200, /^stored 3 of 3 events$/);
  });

  it('answers 503 with the sink\'s reason when the file cannot be written, so the API server retries', async () => {
    const sink = await createFileSink('/dev/full');
    const result = await pipeline(sink).receive(post(eventList(metadata.slice(0, 2))));
    assertAnswer(result, 503, /^not stored, the API server will retry the batch: writing 2 events to file failed: ENOSPC on \/dev\/full: no space left on the device \(\d+ bytes free on its filesystem, the batch needs \d+ bytes\); free space or point --output \(OUTPUTS\) at a larger filesystem; the character device may have taken part of the batch, which the retry writes again$/);
    assert.ok(result.error);
    assert.equal(result.counts.written, 0);
  });

  it('answers 503 when the stream is gone', async () => {
    const stream = new PassThrough();
    stream.destroy();
    const result = await pipeline(createStreamSink(stream)).receive(post(eventList(metadata.slice(0, 2))));
    assertAnswer(result, 503, /^not stored, the API server will retry the batch: writing 2 events to stdout failed: ERR_STREAM_DESTROYED on stdout: stdout failed, nothing more can be written; restart the relay with a reader on its stdout, or give --output \(OUTPUTS\) a file$/);
  });

  it('answers 503 once SINK_TIMEOUT_MS has passed, even if the sink never returns', async () => {
    // A listening server keeps the process alive in production; here a timer does, as AbortSignal.timeout's does not.
    const keepAlive = setTimeout(() => {}, 5_000);
    const stalled = new PassThrough({ highWaterMark: 16 });
    const relay = pipeline(createStreamSink(stalled), { SINK_TIMEOUT_MS: '200' });
    const started = performance.now();
    const result = await relay.receive(post(eventList(metadata.slice(0, 5))));
    const elapsed = performance.now() - started;
    assertAnswer(result, 503, /^not stored, the API server will retry the batch: stdout did not finish within SINK_TIMEOUT_MS \(200 ms\)$/);
    assert.ok(elapsed >= 190 && elapsed < 2_000, `answered after ${elapsed} ms`);
    stalled.destroy();
    clearTimeout(keepAlive);
  });

  it('writes nothing for a refused request', async () => {
    const { path, relay } = await fileTarget({ MAX_BODY_BYTES: '65536' });
    const valid = eventList(metadata.slice(0, 3));
    const cases: [ReceiveRequest, number, RegExp][] = [
      [{ ...post(valid), headers: {} }, 401, /^missing credentials/],
      [post(valid, { authorization: 'Bearer wrong-token-0123456789' }), 401, /^bearer token not accepted/],
      [{ ...post(valid), method: 'PUT' }, 405, /^method PUT not allowed/],
      [{ ...post(valid), method: 'GET' }, 405, /^method GET not allowed/],
      [post(eventList(Array.from({ length: 40 }, () => fixtureFile(Fixture.RequestResponse)[0]!))), 413, /^body of \d+ bytes is over the 65536-byte limit \(MAX_BODY_BYTES\)/],
      [post(valid, { 'content-encoding': 'gzip' }), 415, /^content-encoding "gzip" is not supported/],
      [post(eventList([metadata[0]!, metadata[1]!, '{"stage":"x"}'])), 400, /^items\[2\]: auditID is missing/],
      [post(`${valid}x`), 400, /^body continues after the EventList/],
      [post(''), 400, /^body is empty/],
    ];
    for (const [request, status, message] of cases) {
      const result = await relay.receive(request);
      assertAnswer(result, status, message);
      if (status === 401) assert.match(result.headers['www-authenticate']!, /^Bearer realm=/);
      if (status === 405) assert.equal(result.headers.allow, 'POST');
      assert.equal(result.counts.written, 0);
      assert.equal(readFileSync(path, 'utf8'), '', `${status} ${result.message}`);
    }
    assertAnswer(await relay.receive({ ...post(valid), method: 'post' }), 200, /^stored 3 of 3 events$/);
  });

  it('answers health checks without credentials, and only on the health paths', async () => {
    const { relay } = await fileTarget();
    for (const path of ['/healthz', '/livez', '/readyz']) {
      for (const method of ['GET', 'HEAD', 'get']) {
        const result = await relay.receive({ method, path, headers: {}, body: new Uint8Array() });
        assertAnswer(result, 200, /^ok$/);
      }
    }
    assert.equal((await relay.receive({ method: 'GET', path: '/healthz/x', headers: {}, body: new Uint8Array() })).status, 405);
    assert.equal((await relay.receive({ ...post(''), path: '/healthz', headers: {} })).status, 401);
  });
});

describe('answers the headers decide, before any body is read', () => {
  it('health checks get 200, missing or wrong credentials 401, another method 405, gzip 415; an accepted POST needs its body', async () => {
    const { relay, sink } = await fileTarget();
    const head = (method: string, path: string, headers: Record<string, string | undefined>) => relay.answerHead({ method, path, headers }).answer;
    assert.equal(head('GET', '/livez', {})?.status, 200);
    assertAnswer(head('POST', '/audit', {})!, 401, /missing credentials/);
    assertAnswer(head('POST', '/audit', { authorization: 'Bearer not-the-token-0123456789' })!, 401, /not accepted/);
    assertAnswer(head('PUT', '/audit', { authorization: `Bearer ${TOKEN}` })!, 405, /PUT not allowed/);
    assertAnswer(head('POST', '/audit', { authorization: `Bearer ${TOKEN}`, 'content-encoding': 'gzip' })!, 415, /gzip/);
    assert.equal(head('POST', '/audit', { authorization: `Bearer ${TOKEN}` }), undefined);
    await sink.close();
  });

  it('an accepted head and its body: the same answer as receive gives the whole request', async () => {
    const { relay, sink } = await fileTarget({ CLUSTER_NAME: 'prod-eu' });
    const { accepted } = relay.answerHead({ method: 'POST', path: '/audit', headers: post('').headers });
    assert.equal(accepted?.cluster, 'prod-eu');
    const body = new TextEncoder().encode(eventList(metadata.slice(0, 2)));
    const first = await relay.receiveBody(accepted!, body);
    assertAnswer(first, 200, /^stored 2 of 2 events$/);
    assert.equal(first.cluster, 'prod-eu');
    const retried = await relay.receive(post(body));
    assert.deepEqual({ ...retried, durationMs: 0 }, { ...first, durationMs: 0, body: retried.body, counts: retried.counts });
    assert.equal(retried.counts.duplicates, 2);
    const invalid = await relay.receiveBody(accepted!, new TextEncoder().encode('{"kind":"EventList"'));
    assert.equal(invalid.status, 400, invalid.message);
    await sink.close();
  });
});
