import type { LogRecord } from './record.ts';

/** Base of every error this project throws on purpose; `cause` carries the original error. */
export class RelayError extends Error {
  override readonly name: string = 'RelayError';
}

/** Settings that cannot work. Lists every problem at once, each naming the variable or flag. */
export class ConfigError extends RelayError {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
  }
}

/**
 * A request the relay refuses. `status` is the HTTP status to answer; the message is safe to return to the caller
 * (it never contains event content).
 */
export class RequestError extends RelayError {
  override readonly name = 'RequestError';
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

/** What a SinkError says beyond its message, for the wrappers that retry and deduplicate. */
export interface SinkErrorOptions extends ErrorOptions {
  /** Records of the batch that were stored before the failure (calls that succeeded); default none. */
  readonly stored?: readonly LogRecord[];
  /** Whether another attempt may succeed (throttled, timed out, the service failed); default false. */
  readonly retryable?: boolean;
  /** How long the destination asked to wait before the next attempt (Retry-After). */
  readonly retryAfterMs?: number;
}

/** Thrown by a sink when records could not be stored; the message says what failed and what to check. */
export class SinkError extends RelayError {
  override readonly name = 'SinkError';
  readonly stored: readonly LogRecord[];
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  constructor(
    message: string,
    readonly sink: string,
    /** How many of the records were not stored. */
    readonly failed: number,
    options: SinkErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? {} : { cause: options.cause });
    this.stored = options.stored ?? [];
    this.retryable = options.retryable ?? false;
    this.retryAfterMs = options.retryAfterMs;
  }
}
