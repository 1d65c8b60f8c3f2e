/** What every sink's retry loop shares: jittered exponential backoff and a sleep that an abort ends. */

const BACKOFF_BASE_MS = 100;
const BACKOFF_CAP_MS = 2_000;

/** Full-jitter backoff for the given attempt (0-based): uniform in [0, min(2 s, 100 ms x 2^attempt)). */
export const backoffMs = (attempt: number, random: () => number): number =>
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

/** An error's name for messages and retry decisions, never its message (which may quote content). */
export function errorName(error: unknown): string {
  return error instanceof Error ? error.name : 'unknown error';
}
