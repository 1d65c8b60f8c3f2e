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

/** Thrown by a sink when records could not be stored; the message says what failed and what to check. */
export class SinkError extends RelayError {
  override readonly name = 'SinkError';
  constructor(
    message: string,
    readonly sink: string,
    /** How many of the records were not stored. */
    readonly failed: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
