import type { LogRecord } from '../record.ts';

export { SinkError } from '../errors.ts';

/**
 * A destination for records. `send` resolves only once every record is durably stored, and rejects otherwise: the
 * pipeline answers 2xx only after it resolves, and 5xx (so the API server retries the whole batch) when it rejects.
 */
export interface Sink {
  /** Stable kebab-case id for logs and metrics. */
  readonly name: string;
  /** Largest `LogRecord.bytes` this sink can store; the pipeline truncates records to fit. */
  readonly maxRecordBytes: number;
  send(records: readonly LogRecord[], signal: AbortSignal): Promise<SinkResult>;
  close(): Promise<void>;
}

/** What a successful `send` did, for the response counts and metrics. */
export interface SinkResult {
  /** Records stored by this call. */
  readonly written: number;
  /** Records skipped because this sink already stored them (a retried batch). */
  readonly duplicates: number;
  /** Records a destination first rejected (too old, too new) and that were stored on a second attempt. */
  readonly restamped: number;
  /** Calls made to the destination, retries included. */
  readonly calls: number;
  /**
   * Records this sink cut further to fit its destination's per-field limits, not counting those the pipeline had
   * already truncated. Absent for sinks that store records whole.
   */
  readonly truncated?: number;
  /** Records a tier routing sent to `drop`: counted with the filtered ones. Absent for sinks that store every record. */
  readonly dropped?: number;
}
