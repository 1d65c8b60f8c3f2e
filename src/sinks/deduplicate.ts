import type { LogRecord } from '../record.ts';
import { RecentKeys } from './recent-keys.ts';
import { type Sink, SinkError, type SinkResult } from './sink.ts';

/** How many record keys each output remembers by default: a few hundred of the API server's 400-event batches. */
export const DEFAULT_DEDUPE_CAPACITY = 100_000;

/**
 * The sink, skipping records it already stored: the API server retries a whole batch when any of it failed, so the
 * records stored the first time (`SinkError.stored` says which) are not stored again. Records repeated within one
 * batch are stored once, and a record that another send is storing right now (the API server gave up on an attempt
 * that is still running and sent the batch again) waits for that send to settle. Keys come from `LogRecord.key`,
 * computed once when the record was rendered.
 */
export function withDeduplication(sink: Sink, capacity = DEFAULT_DEDUPE_CAPACITY): Sink {
  const stored = new RecentKeys(capacity);
  /** Keys of records being sent, with when that send settles (it never rejects). */
  const inFlight = new Map<string, Promise<void>>();

  /** The sends now storing any of these records. */
  const sendsOf = (records: readonly LogRecord[]): Set<Promise<void>> => {
    const sends = new Set<Promise<void>>();
    for (const record of records) {
      const settled = inFlight.get(record.key);
      if (settled) sends.add(settled);
    }
    return sends;
  };

  return {
    name: sink.name,
    maxRecordBytes: sink.maxRecordBytes,
    async send(records, context): Promise<SinkResult> {
      // Checked without awaiting when nothing is in flight: two sends of one batch started together must not both
      // find the records free.
      for (let sends = sendsOf(records); sends.size > 0; sends = sendsOf(records)) {
        try {
          await Promise.race([Promise.all(sends), aborted(context.signal)]);
        } catch (error) {
          throw new SinkError(`${sink.name}: the same events were still being stored by an earlier attempt when the batch ran out of time`, sink.name, records.length, { cause: error });
        }
      }
      // From here to registering the batch in flight nothing awaits, so no other send can take the same records.
      const fresh = new Map<string, LogRecord>();
      for (const record of records) {
        if (!stored.has(record.key) && !fresh.has(record.key)) fresh.set(record.key, record);
      }
      const duplicates = records.length - fresh.size;
      if (fresh.size === 0) return { written: 0, duplicates, restamped: 0, calls: 0 };
      const batch = [...fresh.values()];
      let settle = (): void => {};
      const settled = new Promise<void>((resolve) => (settle = resolve));
      for (const key of fresh.keys()) inFlight.set(key, settled);
      try {
        const result = await sink.send(batch, context);
        for (const record of batch) stored.add(record.key);
        return { ...result, duplicates: result.duplicates + duplicates };
      } catch (error) {
        if (error instanceof SinkError) for (const record of error.stored) stored.add(record.key);
        throw error;
      } finally {
        for (const key of fresh.keys()) if (inFlight.get(key) === settled) inFlight.delete(key);
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
