// createClusterRoutedSink over scripted destinations: each record goes to its own cluster's sink, and a batch that
// spans clusters and fails in one of them reports what the others stored, so a retry sends only the rest.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SinkError } from '../../src/errors.ts';
import type { LogRecord } from '../../src/record.ts';
import { createClusterRoutedSink } from '../../src/sinks/per-cluster.ts';
import { type Sink, storedAll } from '../../src/sinks/sink.ts';
import { fixtureRecords } from '../support/records.ts';
import { sendContext } from '../support/send-context.ts';

/** A destination that stores everything, or only the first `storeFirst` records of a batch and then fails. */
function destination(storeFirst?: number): Sink & { stored: LogRecord[] } {
  const sink = {
    name: 'scripted',
    maxRecordBytes: 1_000_000,
    stored: [] as LogRecord[],
    async send(records: readonly LogRecord[]) {
      const stored = records.slice(0, storeFirst ?? records.length);
      sink.stored.push(...stored);
      if (stored.length < records.length) throw new SinkError('scripted failure', 'scripted', records.length - stored.length, { stored, retryable: true });
      return storedAll(records.length, 1);
    },
    close: async () => {},
  };
  return sink;
}

const withCluster = (records: readonly LogRecord[], cluster: string | undefined): LogRecord[] =>
  records.map((record) => Object.assign(Object.create(Object.getPrototypeOf(record) as object) as LogRecord, record, { cluster }));

describe('a sink per cluster', () => {
  it("sends each record to its cluster's sink, opening each once, records without a cluster to their own", async () => {
    // arrange
    const sinks = new Map<string | undefined, ReturnType<typeof destination>>();
    const opened: (string | undefined)[] = [];
    const routed = createClusterRoutedSink({
      name: 'routed',
      maxRecordBytes: 1_000_000,
      open: async (cluster) => {
        opened.push(cluster);
        const sink = destination();
        sinks.set(cluster, sink);
        return sink;
      },
    });
    const records = fixtureRecords();
    const a = withCluster(records.slice(0, 2), 'a');
    const b = withCluster(records.slice(2, 4), 'b');
    const none = withCluster(records.slice(4, 5), undefined);

    // act
    const first = await routed.send([...a, ...b], sendContext());
    const second = await routed.send([...none, ...a], sendContext());

    // assert
    assert.deepEqual([first.written, second.written], [4, 3]);
    assert.deepEqual(opened, ['a', 'b', undefined]);
    assert.deepEqual(sinks.get('a')!.stored.map((record) => record.key), [...a, ...a].map((record) => record.key));
    assert.deepEqual(sinks.get('b')!.stored.map((record) => record.key), b.map((record) => record.key));
    assert.deepEqual(sinks.get(undefined)!.stored.map((record) => record.key), none.map((record) => record.key));
  });

  it('fails a batch spanning clusters with the records the other clusters stored, keeping the cause retryable', async () => {
    // arrange: b's destination stores one of its two records, then fails
    const routed = createClusterRoutedSink({ name: 'routed', maxRecordBytes: 1_000_000, open: async (cluster) => destination(cluster === 'b' ? 1 : undefined) });
    const records = fixtureRecords();
    const a = withCluster(records.slice(0, 2), 'a');
    const b = withCluster(records.slice(2, 4), 'b');

    // act
    const error = await routed.send([...a, ...b], sendContext()).then(
      () => assert.fail('the batch must fail'),
      (thrown: unknown) => thrown as SinkError,
    );

    // assert
    assert.ok(error instanceof SinkError);
    assert.equal(error.sink, 'routed');
    assert.equal(error.failed, 1);
    assert.equal(error.retryable, true);
    assert.deepEqual(error.stored.map((record) => record.key), [...a, b[0]!].map((record) => record.key));
  });

  it('counts the records of clusters not tried yet as failed when the first cluster of a batch fails', async () => {
    // arrange: a's destination stores nothing and fails; b comes after it in the batch
    const routed = createClusterRoutedSink({ name: 'routed', maxRecordBytes: 1_000_000, open: async (cluster) => destination(cluster === 'a' ? 0 : undefined) });
    const records = fixtureRecords();
    const batch = [...withCluster(records.slice(0, 2), 'a'), ...withCluster(records.slice(2, 4), 'b')];

    // act
    const error = await routed.send(batch, sendContext()).then(
      () => assert.fail('the batch must fail'),
      (thrown: unknown) => thrown as SinkError,
    );

    // assert
    assert.deepEqual([error.failed, error.stored.length, error.retryable], [4, 0, true]);
  });

  it('tries a cluster whose sink could not be opened again on its next batch', async () => {
    // arrange
    let attempts = 0;
    const routed = createClusterRoutedSink({
      name: 'routed',
      maxRecordBytes: 1_000_000,
      open: async () => {
        attempts++;
        if (attempts === 1) throw new Error('cannot open');
        return destination();
      },
    });
    const batch = withCluster(fixtureRecords().slice(0, 2), 'a');

    // act
    const failed = await routed.send(batch, sendContext()).then(() => undefined, (error: unknown) => error as SinkError);
    const stored = await routed.send(batch, sendContext());

    // assert
    assert.ok(failed instanceof SinkError && failed.failed === 2 && failed.stored.length === 0);
    assert.equal(stored.written, 2);
    assert.equal(attempts, 2);
  });
});
