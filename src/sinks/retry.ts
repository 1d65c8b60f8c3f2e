/** Retrying a sink's failed records: jittered exponential backoff and a sleep that an abort ends, under the batch's deadline. */
import type { LogRecord } from '../record.ts';
import { type Sink, SinkError, type SinkResult } from './sink.ts';

const BACKOFF_BASE_MS = 100;
const BACKOFF_CAP_MS = 2_000;

/** Full-jitter backoff for the given attempt (0-based): uniform in [0, min(2 s, 100 ms x 2^attempt)). */
const backoffMs = (attempt: number, random: () => number): number =>
  Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt) * random();

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    signal.throwIfAborted();
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** A system error's code (ECONNREFUSED), else its name: for messages, never its message (which may quote content). */
export function failureName(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : errorName(error);
}

/** An error's name for messages and retry decisions, never its message (which may quote content). */
export function errorName(error: unknown): string {
  return error instanceof Error ? error.name : 'unknown error';
}

/** Seams for `withRetry`. */
export interface RetryOptions {
  /** Milliseconds since the epoch; injectable for tests. */
  readonly now?: () => number;
  /** Uniform in [0, 1); the backoff jitter. */
  readonly random?: () => number;
}

/**
 * The sink, sending again the records a retryable SinkError says were not stored, with jittered backoff (or the
 * wait the destination asked for), for as long as the batch's deadline allows. Another attempt starts only if it
 * can finish in time (its wait plus as long as the slowest attempt so far took), so the error reported is the destination's,
 * not a timeout. This is the one place any sink retries.
 */
export function withRetry(sink: Sink, options: RetryOptions = {}): Sink {
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;

  return {
    name: sink.name,
    maxRecordBytes: sink.maxRecordBytes,
    async send(records, context): Promise<SinkResult> {
      let pending = records;
      const stored: LogRecord[] = [];
      let slowestMs = 0;
      for (let attempt = 0; ; attempt++) {
        const started = now();
        try {
          const result = await sink.send(pending, context);
          return { ...result, written: result.written + stored.length, calls: result.calls + attempt };
        } catch (error) {
          if (!(error instanceof SinkError)) throw error;
          stored.push(...error.stored);
          const storedNow = new Set(error.stored);
          pending = pending.filter((record) => !storedNow.has(record));
          const wait = Math.max(backoffMs(attempt, random), error.retryAfterMs ?? 0);
          // The slowest attempt so far, not the last: an attempt's time varies with the client's own retries and
          // their jitter, and one that outlasts the deadline is answered as a timeout instead of with its cause.
          slowestMs = Math.max(slowestMs, now() - started);
          if (!error.retryable || context.signal.aborted || now() + wait + slowestMs > context.deadline) throw withStored(error, stored, pending.length);
          try {
            await sleep(wait, context.signal);
          } catch {
            throw withStored(error, stored, pending.length);
          }
        }
      }
    },
    close: () => sink.close(),
  };
}

/** The last attempt's error, saying what every attempt stored together. */
function withStored(error: SinkError, stored: readonly LogRecord[], failed: number): SinkError {
  if (stored.length === error.stored.length) return error;
  return new SinkError(error.message, error.sink, failed, { cause: error.cause, stored, retryable: error.retryable });
}
