import type { LogRecord } from '../record.ts';
import type { Sink } from '../sinks/sink.ts';

/** What one tier's destination would have been given. */
export interface TierVolume {
  events: number;
  /** Bytes as the destination bills them. */
  bytes: number;
  /** Calls the pipeline made to this tier (one per batch that had records for it). */
  batches: number;
}

/** A sink that stores nothing and adds up what it was given, sized by `size`: the cost command's destinations. */
export function createMeasuringSink(name: string, maxRecordBytes: number, size: (record: LogRecord) => number): Sink & { readonly volume: TierVolume } {
  const volume: TierVolume = { events: 0, bytes: 0, batches: 0 };
  return {
    name,
    maxRecordBytes,
    volume,
    async send(records: readonly LogRecord[]) {
      volume.batches++;
      for (const record of records) {
        volume.events++;
        volume.bytes += size(record);
      }
      return { written: records.length, duplicates: 0, restamped: 0, calls: 1 };
    },
    async close() {},
  };
}
