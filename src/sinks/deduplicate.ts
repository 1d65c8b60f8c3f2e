import type { LogRecord } from '../record.ts';
import { createSlices, SLICE_CHECK_RECORDS, type Slices } from '../slices.ts';
import { RecentKeys } from './recent-keys.ts';
import { type Sink, SinkError, type SinkResult } from './sink.ts';


/** How many record keys each output remembers by default: a few hundred of the API server's 400-event batches. */
export const DEFAULT_DEDUPE_CAPACITY = 100_000;
/** The retry memory is allocated whole when an output opens, 48 to 64 bytes a key: 10,000,000 keys are about 590 MB. */
export const MAX_DEDUPE_CAPACITY = 10_000_000;

/**
 * The sink, skipping records it already stored: the API server retries a whole batch when any of it failed, so the
 * records stored the first time (`SinkError.stored` says which) are not stored again. Records repeated within one
 * batch are stored once, and a record that another send is storing right now (the API server gave up on an attempt
 * that is still running and sent the batch again) waits for that send to settle. Keys come from `LogRecord.key`,
 * computed once when the record was rendered. The bookkeeping runs in slices, so a batch of 600,000 events does
 * not hold the event loop.
 */
export function withDeduplication(sink: Sink, capacity = DEFAULT_DEDUPE_CAPACITY): Sink {
  const stored = new RecentKeys(capacity);
  /** Keys of records being sent, with when that send settles (it never rejects). */
  const inFlight = new Map<string, Promise<void>>();
  /** Sends pass one at a time from choosing their records to registering them in flight. */
  let gate: Promise<unknown> = Promise.resolve();

  /** The sends now storing any of these records. */
  async function sendsOf(records: readonly LogRecord[], slices: Slices): Promise<Set<Promise<void>>> {
    const sends = new Set<Promise<void>>();
    if (inFlight.size === 0) return sends;
    for (let i = 0; i < records.length; i++) {
      const settled = inFlight.get(records[i]!.key);
      if (settled) sends.add(settled);
      if (i % SLICE_CHECK_RECORDS === 0 && slices.due()) await slices.next();
    }
    return sends;
  }

  /** Waits out other sends of the same records, then picks the records not stored and marks them in flight. */
  async function admit(records: readonly LogRecord[], signal: AbortSignal, slices: Slices) {
    // Once: under the gate no other send can take these keys meanwhile, and those waited for remove theirs first.
    const sends = await sendsOf(records, slices);
    if (sends.size > 0) {
      try {
        await Promise.race([Promise.all(sends), aborted(signal)]);
      } catch (error) {
        throw new SinkError(`${sink.name}: the same events were still being stored by an earlier attempt when the batch ran out of time`, sink.name, records.length, { cause: error });
      }
    }
    let settle = (): void => {};
    const settled = new Promise<void>((resolve) => (settle = resolve));
    const fresh: LogRecord[] = [];
    for (let i = 0; i < records.length; i++) {
      const record = records[i]!;
      // No other send holds these keys now (waited out above, under the gate): a key in flight is one this batch
      // repeats.
      if (!stored.has(record.key) && !inFlight.has(record.key)) {
        fresh.push(record);
        inFlight.set(record.key, settled);
      }
      if (i % SLICE_CHECK_RECORDS === 0 && slices.due()) await slices.next();
    }
    return { fresh, settle };
  }

  async function remember(records: readonly LogRecord[], slices: Slices): Promise<void> {
    for (let i = 0; i < records.length; i++) {
      stored.add(records[i]!.key);
      if (i % SLICE_CHECK_RECORDS === 0 && slices.due()) await slices.next();
    }
  }

  return {
    name: sink.name,
    maxRecordBytes: sink.maxRecordBytes,
    async send(records, context): Promise<SinkResult> {
      const slices = createSlices();
      const admitted = gate.then(() => admit(records, context.signal, slices));
      gate = admitted.catch(() => {});
      const { fresh, settle } = await admitted;
      const duplicates = records.length - fresh.length;
      if (fresh.length === 0) {
        settle();
        return { written: 0, duplicates, restamped: 0, calls: 0 };
      }
      try {
        const result = await sink.send(fresh, context);
        await remember(fresh, slices);
        return { ...result, duplicates: result.duplicates + duplicates };
      } catch (error) {
        if (error instanceof SinkError) await remember(error.stored, slices);
        throw error;
      } finally {
        // Remembered first: a send admitted after this one's keys leave the flight finds them stored. Only this send
        // holds these keys in flight: admission never takes a key that is.
        for (const { key } of fresh) inFlight.delete(key);
        settle();
      }
    },
    close: () => sink.close(),
  };
}

function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}
