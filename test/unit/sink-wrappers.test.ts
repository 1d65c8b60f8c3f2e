// withDeduplication and withRetry around a scripted destination: one that stores what it is told to and fails as
// told, so each test can say exactly which records a failure left stored.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SinkError, type SinkErrorOptions } from '../../src/errors.ts';
import type { LogRecord } from '../../src/record.ts';
import { withDeduplication } from '../../src/sinks/deduplicate.ts';
import { withRetry } from '../../src/sinks/retry.ts';
import { type Sink, storedAll } from '../../src/sinks/sink.ts';
import { fixtureRecords } from '../support/records.ts';
import { sendContext } from '../support/send-context.ts';

/** A failure for the next call: how many of its records get stored first, and the error's options. */
interface Failure {
  readonly storeFirst: number;
  readonly options: Omit<SinkErrorOptions, 'stored'>;
}

function scripted(failures: Failure[] = []): Sink & { stored: LogRecord[]; calls: number } {
  const sink = {
    name: 'scripted',
    maxRecordBytes: 1_000_000,
    stored: [] as LogRecord[],
    calls: 0,
    async send(records: readonly LogRecord[]) {
      sink.calls++;
      const failure = failures.shift();
      if (failure === undefined) {
        sink.stored.push(...records);
        return storedAll(records.length, 1);
      }
      const stored = records.slice(0, failure.storeFirst);
      sink.stored.push(...stored);
      throw new SinkError(`scripted failure ${sink.calls}`, 'scripted', records.length - stored.length, { ...failure.options, stored });
    },
    close: async () => {},
  };
  return sink;
}

const records = fixtureRecords().slice(0, 20);
const keys = (list: readonly LogRecord[]): string[] => list.map((record) => record.key);

describe('withDeduplication', () => {
  it('stores a retried batch once and records repeated within a batch once', async () => {
    const destination = scripted();
    const sink = withDeduplication(destination);
    const first = await sink.send([...records, records[3]!], sendContext());
    assert.deepEqual([first.written, first.duplicates], [records.length, 1]);
    const again = await sink.send(records, sendContext());
    assert.deepEqual([again.written, again.duplicates, again.calls], [0, records.length, 0]);
    assert.deepEqual(keys(destination.stored), keys(records));
  });

  it('remembers the records a failed send stored, so the retry sends only the rest', async () => {
    const destination = scripted([{ storeFirst: 7, options: {} }]);
    const sink = withDeduplication(destination);
    await assert.rejects(sink.send(records, sendContext()), SinkError);
    const retry = await sink.send(records, sendContext());
    assert.deepEqual([retry.written, retry.duplicates], [records.length - 7, 7]);
    assert.deepEqual(keys(destination.stored), keys(records), 'each record stored exactly once');
  });

  it('forgets the oldest keys beyond its capacity', async () => {
    const destination = scripted();
    const sink = withDeduplication(destination, 5);
    await sink.send(records.slice(0, 10), sendContext());
    const again = await sink.send(records.slice(0, 10), sendContext());
    assert.deepEqual([again.written, again.duplicates], [5, 5]);
  });

  it('stores a whole batch again once newer batches pushed it out of its memory, and not while it remembers it', async () => {
    const destination = scripted();
    const sink = withDeduplication(destination, 10);
    const [first, second] = [records.slice(0, 10), records.slice(10, 20)];
    await sink.send(first, sendContext());
    await sink.send(second, sendContext());
    const secondAgain = await sink.send(second, sendContext());
    assert.deepEqual([secondAgain.written, secondAgain.duplicates], [0, 10]);
    const firstAgain = await sink.send(first, sendContext());
    assert.deepEqual([firstAgain.written, firstAgain.duplicates], [10, 0]);
    const secondLater = await sink.send(second, sendContext());
    assert.deepEqual([secondLater.written, secondLater.duplicates], [10, 0], 'the first batch pushed it out in turn');
    assert.deepEqual(keys(destination.stored), keys([...first, ...second, ...first, ...second]));
  });

  it('a retry that arrives while the first attempt is still storing waits for it and stores only what it left', async () => {
    let release = (): void => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    const destination = scripted([{ storeFirst: 6, options: {} }]);
    const slow: Sink = { ...destination, send: async (batch, context) => (await released, destination.send(batch, context)) };
    const sink = withDeduplication(slow);
    const attempt = sink.send(records, sendContext());
    const retry = sink.send(records, sendContext());
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(destination.calls, 0, 'the retry waits for the attempt instead of sending the same records');
    release();
    await assert.rejects(attempt, SinkError);
    const result = await retry;
    assert.deepEqual([result.written, result.duplicates], [records.length - 6, 6]);
    assert.deepEqual(keys(destination.stored), keys(records), 'each record stored exactly once');
    const later = await sink.send([...records.slice(0, 3), ...fixtureRecords().slice(20, 22)], sendContext(1_000));
    assert.deepEqual([later.written, later.duplicates], [2, 3], 'no key is left in flight');
  });

  it('a retry still waiting for the first attempt when its time runs out fails, naming what it waited for', async () => {
    let release = (): void => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    const destination = scripted();
    const stuck: Sink = { ...destination, send: async (batch, context) => (await released, destination.send(batch, context)) };
    const sink = withDeduplication(stuck);
    const attempt = sink.send(records, sendContext());
    // A timer of its own: AbortSignal.timeout's does not keep the test's event loop running.
    const timeUp = new AbortController();
    const timer = setTimeout(() => timeUp.abort(new Error('time is up')), 200);
    try {
      await assert.rejects(sink.send(records, { signal: timeUp.signal, deadline: Date.now() + 200 }), /still being stored by an earlier attempt/);
      assert.equal(destination.calls, 0);
    } finally {
      clearTimeout(timer);
      release();
    }
    assert.equal((await attempt).written, records.length);
  });
});

describe('withRetry', () => {
  it('sends again only what a retryable failure left unstored, and counts it all as written', async () => {
    const destination = scripted([
      { storeFirst: 5, options: { retryable: true } },
      { storeFirst: 5, options: { retryable: true } },
    ]);
    const result = await withRetry(destination, { random: () => 0 }).send(records, sendContext());
    assert.deepEqual([result.written, result.calls, destination.calls], [records.length, 3, 3]);
    assert.deepEqual(keys(destination.stored), keys(records));
  });

  it('does not retry a failure that is not retryable', async () => {
    const destination = scripted([{ storeFirst: 0, options: { retryable: false } }]);
    await assert.rejects(withRetry(destination).send(records, sendContext()), /scripted failure 1/);
    assert.equal(destination.calls, 1);
  });

  it('waits as long as the destination asked (Retry-After)', async () => {
    const destination = scripted([{ storeFirst: 0, options: { retryable: true, retryAfterMs: 300 } }]);
    const started = performance.now();
    await withRetry(destination, { random: () => 0 }).send(records, sendContext());
    // A lower bound only: a loaded machine can make the wait longer, never shorter.
    assert.ok(performance.now() - started >= 290);
  });

  it('gives up when the next wait would pass the deadline, reporting the destination error with every record stored so far', async () => {
    const failures = Array.from({ length: 50 }, () => ({ storeFirst: 1, options: { retryable: true, retryAfterMs: 100 } }));
    const destination = scripted(failures);
    const started = performance.now();
    const error = await withRetry(destination).send(records, sendContext(1_000)).then(() => undefined, (caught: unknown) => caught);
    const elapsed = performance.now() - started;
    assert.ok(error instanceof SinkError);
    assert.match(error.message, /^scripted failure \d+$/);
    assert.deepEqual(keys(error.stored), keys(destination.stored), 'the error lists what every attempt stored');
    assert.equal(error.failed, records.length - destination.stored.length);
    assert.ok(destination.calls >= 2, 'it did retry');
    // The destination's own error above, not the deadline's, shows it gave up instead of waiting into the deadline; the
    // time is only a sanity bound, since a loaded 2-core machine fired the 100 ms timers late enough to pass 1,000 ms.
    assert.ok(elapsed < 2_000, `took ${elapsed} ms`);
  });

  it('judges whether another attempt fits by the slowest attempt so far, not the last', async () => {
    // On a clock of the test's: the attempts take 200, 10 and 10 ms; the deadline is at 405. After the second, the
    // last attempt's 10 ms would fit, the slowest one's 200 would not.
    let time = 0;
    const destination = scripted(Array.from({ length: 3 }, () => ({ storeFirst: 0, options: { retryable: true } })));
    const durations = [200, 10, 10];
    const timed: Sink = {
      ...destination,
      send: (batch, context) => {
        time += durations[destination.calls]!;
        return destination.send(batch, context);
      },
    };
    const sink = withRetry(timed, { now: () => time, random: () => 0 });
    await assert.rejects(sink.send(records, { signal: new AbortController().signal, deadline: 405 }), (error: unknown) => error instanceof SinkError && error.message === 'scripted failure 2');
    assert.equal(destination.calls, 2);
  });

  it('through withDeduplication: a batch that ran out of time is completed by the retried batch, each record stored once', async () => {
    const destination = scripted([
      { storeFirst: 4, options: { retryable: true, retryAfterMs: 5_000 } },
    ]);
    const sink = withDeduplication(withRetry(destination));
    await assert.rejects(sink.send(records, sendContext(1_000)), SinkError);
    const retry = await sink.send(records, sendContext());
    assert.deepEqual([retry.written, retry.duplicates], [records.length - 4, 4]);
    assert.deepEqual(keys(destination.stored), keys(records));
  });
});
