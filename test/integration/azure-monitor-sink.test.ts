import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MAX_IDENTIFIER_LENGTH } from '../../src/audit/validate.ts';
import { SinkError } from '../../src/errors.ts';
import { type LogRecord, recordKey } from '../../src/record.ts';
import { MAX_FIELD_BYTES, toAksAuditRow } from '../../src/sinks/aks-audit-row.ts';
import { type AzureMonitorSinkOptions, createAzureMonitorSink, MAX_EVENT_BYTES } from '../../src/sinks/azure-monitor.ts';
import { withDeduplication } from '../../src/sinks/deduplicate.ts';
import { withRetry } from '../../src/sinks/retry.ts';
import { type AzureStandIns, RULE_ID, STREAM, startAzureStandIns } from '../support/azure-monitor.ts';
import { MAX_CALL_BYTES } from '../support/logs-ingestion-standin.ts';
import { fixtureLines, repeatedLines } from '../support/event-lists.ts';
import { fixtureRecords, recordFromLine } from '../support/records.ts';
import { sendContext } from '../support/send-context.ts';
import { waitFor } from '../support/wait-for.ts';

const signal = () => sendContext();
/** Rows as they travel: JSON text, parsed again. */
const asSent = (record: LogRecord) => JSON.parse(JSON.stringify(toAksAuditRow(record).row)) as Record<string, unknown>;
const byKey = (rows: readonly Record<string, unknown>[]) =>
  [...rows].sort((a, b) => `${a.AuditId}/${a.Stage}`.localeCompare(`${b.AuditId}/${b.Stage}`));
const uniqueByKey = (records: readonly LogRecord[]) => {
  const first = new Map<string, LogRecord>();
  for (const record of records) if (!first.has(recordKey(record))) first.set(recordKey(record), record);
  return [...first.values()];
};

/**
 * The largest row the pipeline can hand the sink: every column exactly at the 64 KB field limit (Annotations keeps
 * room for truncation marks), but for the identifiers, which validation caps at MAX_IDENTIFIER_LENGTH.
 */
function fullRowEvent(index: number) {
  const text = (bytes: number) => 'x'.repeat(bytes);
  const object = (bytes: number) => ({ k: text(bytes - 8) });
  const identifier = text(MAX_IDENTIFIER_LENGTH);
  return {
    level: identifier, auditID: `full-${index}`, stage: identifier, requestURI: text(MAX_FIELD_BYTES),
    verb: identifier, user: object(MAX_FIELD_BYTES), impersonatedUser: object(MAX_FIELD_BYTES),
    sourceIPs: [text(MAX_FIELD_BYTES - 4)], userAgent: text(MAX_FIELD_BYTES), objectRef: object(MAX_FIELD_BYTES),
    responseStatus: object(MAX_FIELD_BYTES), requestObject: object(MAX_FIELD_BYTES), responseObject: object(MAX_FIELD_BYTES),
    annotations: object(MAX_FIELD_BYTES - 512), stageTimestamp: '2024-05-01T10:00:00.000000Z',
  };
}

/**
 * 1,001 records cycling through the fixture events under 64 KB, each with its own auditID: about 1.6 MB, so a send
 * takes several calls but stays quick on a loaded machine (the large events' cut fields are tested on their own).
 */
const fixtureVolume = repeatedLines(1_001, fixtureLines().filter((line) => Buffer.byteLength(line) < 65_536)).map(recordFromLine);

// The suite takes about 15 s; on a loaded machine a timing assertion that fails can leave a send waiting on the
// stand-in, which without a bound held the file until the runner's 5 minutes.
describe('azure monitor logs sink over the real SDK and managed identity', { timeout: 120_000 }, () => {
  let azure: AzureStandIns;

  before(async () => {
    azure = await startAzureStandIns(7);
  });
  after(() => azure.close());

  /** The sink wrapped as the relay wraps every output. */
  const sink = (options: Partial<AzureMonitorSinkOptions> = {}) =>
    withDeduplication(
      withRetry(
        createAzureMonitorSink({
          endpoint: azure.ingestion.endpoint,
          credential: azure.credential,
          ruleId: RULE_ID,
          streamName: STREAM,
          clientOptions: { tlsOptions: { ca: azure.ingestion.ca } },
          ...options,
        }),
      ),
    );
  /** Rows the stand-in stored since `from`, and the calls it answered. */
  const since = (rows: number, calls: number) => ({
    rows: azure.ingestion.rows().slice(rows),
    calls: azure.ingestion.calls.slice(calls),
  });
  const mark = () => [azure.ingestion.rows().length, azure.ingestion.calls.length] as const;

  it('stores every fixture event and a thousand more once as their rows, in gzipped calls under 1 MB with a managed identity token', async () => {
    const records = [...fixtureRecords(), ...fixtureVolume];
    const expected = uniqueByKey(records);
    const [rows0, calls0] = mark();
    const result = await sink().send(records, signal());
    const { rows, calls } = since(rows0, calls0);

    assert.equal(result.written, expected.length);
    assert.equal(result.duplicates, records.length - expected.length);
    assert.deepEqual(byKey(rows), byKey(expected.map(asSent)));
    // The large fixture events hold objects over 64 KB: each such row is cut and counted.
    const fieldBytes = (value: unknown) => Buffer.byteLength(typeof value === 'string' ? value : JSON.stringify(value), 'utf8');
    const cut = expected.filter((record) => Object.values(record.event).some((value) => fieldBytes(value) > MAX_FIELD_BYTES)).length;
    assert.ok(cut > 0);
    assert.equal(result.truncated, cut);
    assert.equal(result.calls, calls.length);
    assert.ok(calls.length >= 2, 'the events are over 1 MB, so the client splits them');
    for (const call of calls) {
      assert.deepEqual([call.status, call.gzip, call.apiVersion], [204, true, '2023-01-01']);
      assert.ok(call.bytes <= MAX_CALL_BYTES);
    }
    assert.equal(azure.ingestion.fieldsOverLimit, 0, 'no field was left for the service to cut');
    assert.ok(azure.identity.requests >= 1);
  });

  it('skips a retried batch it already stored, without calling the service', async () => {
    const records = fixtureVolume.slice(0, 400);
    const target = sink();
    await target.send(records, signal());
    const [rows0, calls0] = mark();
    const again = await target.send(records, signal());
    assert.deepEqual([again.written, again.duplicates, again.calls], [0, 400, 0]);
    assert.deepEqual(since(rows0, calls0), { rows: [], calls: [] });
  });

  it('sends the largest rows a record can make, every field at 64 KB, one per call and each accepted', async () => {
    const records = Array.from({ length: 4 }, (_, i) => recordFromLine(JSON.stringify(fullRowEvent(i))));
    for (const record of records) assert.ok(record.bytes <= MAX_EVENT_BYTES);
    const [rows0, calls0] = mark();
    const result = await sink().send(records, signal());
    const { rows, calls } = since(rows0, calls0);
    assert.equal(result.written, 4);
    assert.deepEqual(byKey(rows), byKey(records.map(asSent)));
    assert.equal(calls.length, 4);
    // 10 columns of 64 KB: about 655 KB, so two such rows never share a call.
    for (const call of calls) assert.ok(call.status === 204 && call.bytes > 9 * MAX_FIELD_BYTES && call.bytes <= MAX_CALL_BYTES, `call of ${call.bytes} bytes`);
    assert.equal(azure.ingestion.fieldsOverLimit, 0);
  });

  it('waits the Retry-After of a 429 and then stores the rows', async () => {
    const records = fixtureVolume.slice(400, 800);
    azure.ingestion.faults.retryAfterSeconds = 1;
    azure.ingestion.faults.throttleNext(1);
    const [rows0, calls0] = mark();
    const started = Date.now();
    const result = await sink().send(records, signal());
    const elapsed = Date.now() - started;
    const { rows, calls } = since(rows0, calls0);
    assert.ok(elapsed >= 1000, `retried after ${elapsed} ms, before the 1 s Retry-After`);
    assert.equal(calls[0]!.status, 429);
    assert.equal(result.calls, calls.length);
    assert.deepEqual(byKey(rows), byKey(uniqueByKey(records).map(asSent)));
  });

  it('gives up with a SinkError when throttling outlasts the deadline, and a retried batch stores only the rest', async () => {
    const records = fixtureVolume.slice(0, 1001);
    const unique = uniqueByKey(records);
    const target = sink({ concurrency: 1 });
    azure.ingestion.faults.retryAfterSeconds = 5;
    azure.ingestion.faults.throttleNext(1);
    const [rows0, calls0] = mark();
    const started = Date.now();
    const error = await target.send(records, sendContext(2_000)).then(() => undefined, (caught: unknown) => caught);
    assert.ok(error instanceof SinkError, 'a throttled call past the deadline fails the send');
    assert.ok(Date.now() - started < 2_000, 'it does not wait a Retry-After that ends after the deadline');
    assert.match(error.message, /^azure monitor logs: \d+ of \d+ rows were not stored .*HTTP 429 TooManyRequests/);
    const storedFirst = since(rows0, calls0).rows.length;
    assert.equal(error.failed, unique.length - storedFirst);
    assert.ok(error.failed > 0 && storedFirst > 0, 'only the throttled call failed');

    // The API server retries the whole batch: only the rows not yet stored are sent.
    const retry = await target.send(records, signal());
    assert.equal(retry.written, error.failed);
    assert.deepEqual(byKey(since(rows0, calls0).rows), byKey(unique.map(asSent)));
  });

  it('does not retry what no retry can fix: an unknown rule', async () => {
    const [, calls0] = mark();
    const error = await sink({ ruleId: 'dcr-ffffffffffffffffffffffffffffffff' })
      .send(fixtureVolume.slice(0, 10), signal())
      .then(() => undefined, (caught: unknown) => caught);
    assert.ok(error instanceof SinkError);
    assert.match(error.message, /10 of 10 rows .*HTTP 404 NotFound.*LOGS_DCR_IMMUTABLE_ID/);
    assert.equal(azure.ingestion.calls.length - calls0, 1);
  });

  it('reports a token the service refuses with the role to check', async () => {
    const forged = { getToken: async () => ({ token: 'forged', expiresOnTimestamp: Date.now() + 3_600_000 }) };
    const error = await sink({ credential: forged })
      .send(fixtureVolume.slice(0, 3), signal())
      .then(() => undefined, (caught: unknown) => caught);
    assert.ok(error instanceof SinkError);
    assert.match(error.message, /HTTP 401 InvalidToken.*Monitoring Metrics Publisher/);
  });

  it('counts rows of calls never started as not stored when the send is aborted mid-upload', async () => {
    // Rows of about 655 KB go one per call; with one call at a time, the second is held 3 s and the abort comes once
    // the first was answered, while the later ones wait (not by a fixed time: a loaded machine may take longer).
    const records = Array.from({ length: 5 }, (_, i) => recordFromLine(JSON.stringify(fullRowEvent(100 + i))));
    const target = sink({ concurrency: 1 });
    const [rows0, calls0] = mark();
    azure.ingestion.faults.delayOneAfter(1, 3_000);
    const abort = new AbortController();
    const sent = target.send(records, { signal: abort.signal, deadline: Date.now() + 60_000 }).then(() => undefined, (caught: unknown) => caught);
    await waitFor(() => azure.ingestion.calls.length > calls0 + 1);
    abort.abort(new DOMException('no answer in time', 'TimeoutError'));
    const error = await sent;
    assert.ok(error instanceof SinkError);
    const calls = azure.ingestion.calls.slice(calls0);
    assert.ok(calls.some((call) => call.status === 204), 'a call was answered before the abort');
    assert.ok(calls.length < records.length, 'some calls were never started');
    assert.equal(error.failed, records.length, 'no row is taken as stored once the upload was cut short');
    assert.match(error.message, /ran out of time \(SINK_TIMEOUT_MS\)/);
    // The call cut short is still handled by the service; let it finish before the next test sets faults.
    await waitFor(() => !azure.ingestion.calls.slice(calls0).some((call) => call.status === 0));

    const retry = await target.send(records, signal());
    assert.equal(retry.written, records.length);
    // Nothing is lost; rows answered before the abort are stored twice, which at-least-once delivery allows.
    const stored = new Set(since(rows0, calls0).rows.map((row) => row.AuditId));
    assert.deepEqual([...stored].sort(), records.map((record) => record.auditID).sort());
  });

  it('stops when the pipeline gives up, answering with a SinkError', async () => {
    azure.ingestion.faults.retryAfterSeconds = 3;
    azure.ingestion.faults.throttleNext(1);
    const started = Date.now();
    const error = await sink()
      .send(fixtureVolume.slice(0, 5), sendContext(300))
      .then(() => undefined, (caught: unknown) => caught);
    assert.ok(error instanceof SinkError);
    // The Retry-After would end past the deadline: the send stops at once, with the service's answer.
    assert.match(error.message, /\(HTTP 429 TooManyRequests\); .*ran out of time$/);
    assert.ok(Date.now() - started < 2_000);
  });
});
