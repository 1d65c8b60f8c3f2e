import type { LogRecord } from '../record.ts';
import { RecentKeys } from './recent-keys.ts';
import { type Sink, SinkError, type SinkResult } from './sink.ts';

/** How many record keys each output remembers by default: a few hundred of the API server's 400-event batches. */
export const DEFAULT_DEDUPE_CAPACITY = 100_000;

/**
 * The sink, skipping records it already stored: the API server retries a whole batch when any of it failed, so the
 * records stored the first time (`SinkError.stored` says which) are not stored again. Records repeated within one
 * batch are stored once. Keys come from `LogRecord.key`, computed once when the record was rendered.
 */
export function withDeduplication(sink: Sink, capacity = DEFAULT_DEDUPE_CAPACITY): Sink {
  const stored = new RecentKeys(capacity);
  const remember = (records: readonly LogRecord[]): void => {
    for (const record of records) stored.add(record.key);
  };

  return {
    name: sink.name,
    maxRecordBytes: sink.maxRecordBytes,
    async send(records, context): Promise<SinkResult> {
      const fresh = new Map<string, LogRecord>();
      for (const record of records) {
        if (!stored.has(record.key) && !fresh.has(record.key)) fresh.set(record.key, record);
      }
      const duplicates = records.length - fresh.size;
      if (fresh.size === 0) return { written: 0, duplicates, restamped: 0, calls: 0 };
      const batch = [...fresh.values()];
      try {
        const result = await sink.send(batch, context);
        remember(batch);
        return { ...result, duplicates: result.duplicates + duplicates };
      } catch (error) {
        if (error instanceof SinkError) remember(error.stored);
        throw error;
      }
    },
    close: () => sink.close(),
  };
}
