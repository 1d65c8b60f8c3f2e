import { OutputWriteError } from '../sinks/append-file.ts';

/**
 * What serve's `GET /readyz` says. Ready until a batch fails because an output is broken in a way no retry mends (the
 * reader of its pipe has gone away: EPIPE); ready again once a batch writes an event. A 200 that wrote nothing (every
 * event filtered out, or every one a retry already stored) says nothing about the output and leaves it not ready. `/healthz` and `/livez` stay 200:
 * the process itself is fine, and a restart with a new reader is the operator's call.
 */
export interface Readiness {
  /** Takes a batch's outcome: its status, how many events it wrote and, when it failed, the error behind it. */
  observe(status: number, written: number, error: Error | undefined): void;
  /** Why the relay is not ready (safe to send: names the output, never event content); undefined when it is. */
  notReadyBecause(): string | undefined;
}

export function createReadiness(): Readiness {
  let broken: string | undefined;
  return {
    observe(status, written, error) {
      if (status >= 200 && status < 300) {
        if (written > 0) broken = undefined;
      }
      else if (error) broken = brokenOutput(error)?.message ?? broken;
    },
    notReadyBecause: () => broken,
  };
}

/** The EPIPE somewhere in a failure's causes (several outputs fail together as an AggregateError). */
function brokenOutput(error: unknown, depth = 0): OutputWriteError | undefined {
  if (depth > 8 || !(error instanceof Error)) return undefined;
  if (error instanceof OutputWriteError && error.code === 'EPIPE') return error;
  const inner = error instanceof AggregateError ? (error.errors as unknown[]) : [];
  for (const candidate of [error.cause, ...inner]) {
    const found = brokenOutput(candidate, depth + 1);
    if (found) return found;
  }
  return undefined;
}
