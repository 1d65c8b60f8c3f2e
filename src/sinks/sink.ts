import type { LogRecord } from '../record.ts';

export { SinkError } from '../errors.ts';

/** What a `send` may spend: the signal aborts when the caller gives up, `deadline` says when that will be at the latest. */
export interface SendContext {
  /** Aborts when the batch's time is up or its caller went away; a sink stops its calls then. */
  readonly signal: AbortSignal;
  /** Milliseconds since the epoch by which `send` must have settled; retries that would end later are not started. */
  readonly deadline: number;
}

/**
 * A destination for records. `send` resolves only once every record is durably stored, and rejects with a SinkError
 * otherwise; that error's `stored` lists the records that did get stored (a call of several that succeeded), so a
 * retry sends only the others. A destination is pure I/O: deduplication (`withDeduplication`) and retrying
 * (`withRetry`) wrap it once, the same way for every destination.
 */
export interface Sink {
  /** Stable kebab-case id for logs and metrics. */
  readonly name: string;
  /** Largest `LogRecord.bytes` this sink can store; the pipeline truncates records to fit. */
  readonly maxRecordBytes: number;
  send(records: readonly LogRecord[], context: SendContext): Promise<SinkResult>;
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
  /** Records best-effort outputs could not take (their queue was full); they never reach those outputs. */
  readonly dropped?: number;
  /** Records a tier routing sent to `drop`: counted with the filtered ones. Absent for sinks that store every record. */
  readonly routedToDrop?: number;
}

/** A result for records all stored by `calls` calls. */
export const storedAll = (written: number, calls: number): SinkResult => ({ written, duplicates: 0, restamped: 0, calls });
