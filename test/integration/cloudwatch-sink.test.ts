import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SinkError } from '../../src/errors.ts';
import { type LogRecord, recordKey, recordWith } from '../../src/record.ts';
import { packLowerBound } from '../../src/sinks/cloudwatch-pack.ts';
import { createCloudWatchSink, type CloudWatchSinkOptions } from '../../src/sinks/cloudwatch.ts';
import { withDeduplication } from '../../src/sinks/deduplicate.ts';
import { withRetry } from '../../src/sinks/retry.ts';
import type { Sink } from '../../src/sinks/sink.ts';
import { readStream, standInClient } from '../support/cloudwatch-client.ts';
import { type CloudWatchLogsStandIn, startCloudWatchLogsStandIn } from '../../tools/dev/cloudwatch-logs-standin.ts';
import { fixtureLines, repeatedLines } from '../support/event-lists.ts';
import { fixtureRecords, recordFromLine, sizedRecord } from '../support/records.ts';
import { sendContext } from '../support/send-context.ts';

const HOUR = 3_600_000;
const signal = () => sendContext();

describe('cloudwatch logs sink over the real SDK', () => {
  let standIn: CloudWatchLogsStandIn;
  let group = 0;

  before(async () => {
    standIn = await startCloudWatchLogsStandIn({ seed: 42 });
  });
  after(() => standIn.close());

  /**
   * A sink writing to a fresh group, wrapped as the relay wraps every output (`retry: false` leaves retrying to the
   * caller), and a way to read its one stream back.
   */
  function fresh(options: Partial<CloudWatchSinkOptions> = {}, { retry = true } = {}) {
    const logGroupName = `/aws/eks/test-${group++}/cluster`;
    standIn.createLogGroup(logGroupName);
    const client = standInClient(standIn.endpoint);
    const cloudWatch: Sink = createCloudWatchSink({ client, logGroupName, ...options });
    const sink = withDeduplication(retry ? withRetry(cloudWatch) : cloudWatch);
    const read = async () => {
      const streams = standIn.streams(logGroupName);
      assert.equal(streams.length, 1);
      assert.match(streams[0]!, /^kube-apiserver-audit-[0-9a-f]{32}$/);
      return readStream(client, logGroupName, streams[0]!);
    };
    const puts = () => standIn.calls.get('PutLogEvents') ?? 0;
    return { sink, read, puts, logGroupName };
  }

  const sorted = (messages: readonly string[]) => [...messages].sort();
  /** The records the sink stores: the first of each (auditID, stage). */
  const uniqueByKey = (records: readonly LogRecord[]) => {
    const first = new Map<string, LogRecord>();
    for (const record of records) if (!first.has(recordKey(record))) first.set(recordKey(record), record);
    return [...first.values()];
  };

  it('stores every fixture event and GetLogEvents returns exactly them', async () => {
    const records = fixtureRecords();
    const expected = uniqueByKey(records);
    const { sink, read } = fresh();
    const result = await sink.send(records, signal());
    assert.equal(result.written, expected.length);
    assert.equal(result.duplicates, records.length - expected.length);
    // The fixtures are years old: the service rejects them as too old and the sink stores them at the current time.
    assert.equal(result.restamped, expected.length);
    assert.deepEqual(sorted(await read()), sorted(expected.map((r) => r.json)));
  });

  it('packs 10,500 small events into the fewest calls', async () => {
    const now = Date.now();
    const records = Array.from({ length: 10_500 }, (_, i) => sizedRecord(i, now - i, 140));
    const { sink, read, puts } = fresh();
    const before = puts();
    const result = await sink.send(records, signal());
    assert.equal(packLowerBound(records), 2);
    assert.equal(puts() - before, 2);
    assert.equal(result.calls, 2);
    assert.deepEqual(sorted(await read()), sorted(records.map((r) => r.json)));
  });

  it('splits a batch over 1 MiB holding a 1 MiB event into the lower bound of calls', async () => {
    const now = Date.now();
    const records = [
      ...Array.from({ length: 3_000 }, (_, i) => sizedRecord(i, now - (i % 200) * 1000, 1_000)),
      sizedRecord(3_000, now - 5_000, 1_048_576 - 26),
    ];
    const { sink, read, puts } = fresh();
    const before = puts();
    const result = await sink.send(records, signal());
    assert.equal(packLowerBound(records), 4);
    assert.equal(puts() - before, 4);
    assert.equal(result.calls, 4);
    assert.equal(result.restamped, 0);
    assert.deepEqual(sorted(await read()), sorted(records.map((r) => r.json)));
  });

  it('splits events spanning 72.5 hours into one call per 24-hour window', async () => {
    const now = Date.now();
    const records = Array.from({ length: 30 }, (_, i) => sizedRecord(i, now - i * 2.5 * HOUR, 300));
    const { sink, read } = fresh();
    const result = await sink.send(records, signal());
    assert.equal(packLowerBound(records), 3);
    assert.equal(result.calls, 3);
    assert.equal(result.restamped, 0);
    assert.deepEqual(sorted(await read()), sorted(records.map((r) => r.json)));
  });

  it('sorts out-of-order timestamps within a call', async () => {
    const now = Date.now();
    const records = Array.from({ length: 500 }, (_, i) => sizedRecord(i, now - ((i * 7919) % 500) * 1000, 200));
    const { sink, read } = fresh();
    const result = await sink.send(records, signal());
    assert.equal(result.calls, 1);
    assert.deepEqual(sorted(await read()), sorted(records.map((r) => r.json)));
  });

  it('restamps events 20 days old and events 3 hours in the future, keeping their JSON', async () => {
    const now = Date.now();
    const old = Array.from({ length: 40 }, (_, i) => sizedRecord(i, now - 20 * 24 * HOUR + i, 300));
    const current = Array.from({ length: 10 }, (_, i) => sizedRecord(100 + i, now - i, 300));
    const future = Array.from({ length: 5 }, (_, i) => sizedRecord(200 + i, now + 3 * HOUR + i, 300));
    const { sink, read } = fresh();
    const result = await sink.send([...old, ...current, ...future], signal());
    assert.equal(result.written, 55);
    assert.equal(result.restamped, 45);
    assert.deepEqual(sorted(await read()), sorted([...old, ...current, ...future].map((r) => r.json)));
  });

  it('creates a missing log group and stream, then stores', async () => {
    const client = standInClient(standIn.endpoint);
    const logGroupName = '/aws/eks/missing/cluster';
    const sink = createCloudWatchSink({ client, logGroupName });
    const records = [sizedRecord(1, Date.now(), 400)];
    assert.equal((await sink.send(records, signal())).written, 1);
    assert.deepEqual(await readStream(client, logGroupName, standIn.streams(logGroupName)[0]!), [records[0]!.json]);
  });

  it('retries throttling and 500s with backoff (withRetry) within the deadline', async () => {
    const { sink, read } = fresh();
    await sink.send([sizedRecord(0, Date.now(), 200)], signal()); // the stream exists from here on
    standIn.faults.throttleNext(2);
    const records = [sizedRecord(1, Date.now(), 200)];
    const result = await sink.send(records, signal());
    standIn.faults.failNext(1);
    const again = await sink.send([sizedRecord(2, Date.now(), 200)], signal());
    assert.equal(result.calls, 3);
    assert.equal(again.calls, 2);
    assert.equal((await read()).length, 3);
  });

  it('gives up with a SinkError when the deadline nears and when aborted', async () => {
    const { sink } = fresh();
    standIn.faults.failNext(1_000);
    try {
      await assert.rejects(sink.send([sizedRecord(0, Date.now(), 200)], sendContext(300)), (error: unknown) => {
        assert.ok(error instanceof SinkError);
        assert.equal(error.failed, 1);
        assert.match(error.message, /ServiceUnavailableException/);
        return true;
      });
      const aborted = sendContext(50);
      await assert.rejects(createCloudWatchSink({ client: standInClient(standIn.endpoint), logGroupName: 'x' }).send([sizedRecord(1, Date.now(), 200)], aborted));
    } finally {
      standIn.faults.failNext(0);
    }
  });

  it('accepts 262,144-byte events when so configured and the service enforces that maximum', async () => {
    const small = await startCloudWatchLogsStandIn({ maxEventBytes: 262_144 });
    try {
      const client = standInClient(small.endpoint);
      small.createLogGroup('g');
      const sink = createCloudWatchSink({ client, logGroupName: 'g', maxEventBytes: 262_144 });
      assert.equal(sink.maxRecordBytes, 262_118);
      const fits = sizedRecord(0, Date.now(), sink.maxRecordBytes);
      assert.equal((await sink.send([fits], signal())).written, 1);
      await assert.rejects(sink.send([sizedRecord(1, Date.now(), sink.maxRecordBytes + 1)], signal()), SinkError);
      assert.deepEqual(await readStream(client, 'g', small.streams('g')[0]!), [fits.json]);
    } finally {
      await small.close();
    }
  });

  it('with 30% of calls failing, API-server-style batch retries store every event exactly once', async () => {
    // Recent timestamps in two days 25 h apart: each batch takes two calls, so a batch can fail after one of them was
    // stored, and its replay must recognise those events. No timestamp is old enough to be restamped.
    const day = 25 * 3_600_000;
    const records = repeatedLines(1_001, fixtureLines()).map((line, i) => recordWith(recordFromLine(line), { timestamp: Date.now() - (i % 2) * day - i }));
    const expected = uniqueByKey(records);
    // No retrying: every failed call fails the batch, so the whole-batch replays and the dedupe do the work.
    const { sink, read } = fresh({}, { retry: false });
    const batches = Array.from({ length: Math.ceil(records.length / 100) }, (_, i) => records.slice(i * 100, i * 100 + 100));
    standIn.faults.failureRate = 0.3;
    let replays = 0;
    let duplicates = 0;
    try {
      for (const batch of batches) {
        for (let attempt = 1; ; attempt++) {
          try {
            duplicates += (await sink.send(batch, signal())).duplicates;
            break;
          } catch (error) {
            assert.ok(error instanceof SinkError);
            assert.ok(attempt < 5, 'a batch failed five times');
            replays++;
          }
        }
      }
    } finally {
      standIn.faults.failureRate = 0;
    }
    assert.ok(replays > 0, 'the failure rate caused no replays');
    assert.ok(duplicates > 0, 'no replayed event was recognised as already stored');
    assert.deepEqual(sorted(await read()), sorted(expected.map((r) => r.json)));
  });
});
