import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * How long one slice of a batch's synchronous work (decoding, validating, rendering, encoding) may hold the event loop.
 * Health checks and other connections wait at most about this long behind a batch of any size; a slice this long
 * costs little throughput: a switch between slices takes microseconds.
 */
export const SLICE_MS = 4;

/**
 * For loops whose step is a fraction of a microsecond: how many steps pass between looks at the clock. Reading it
 * for every record was 7% of the deduplication wrapper's profile, and a hundred records take well under a millisecond
 * of a slice.
 */
export const SLICE_CHECK_RECORDS = 128;

/**
 * Long synchronous work cut into slices of time with the event loop free between them, so that a 600,000-event batch
 * does not keep /healthz (and every other connection) waiting until it is done.
 */
export interface Slices {
  /** Whether the current slice has run its time: the caller should `await next()` before going on. */
  due(): boolean;
  /** Lets the event loop run (I/O callbacks, timers, other requests), then starts a new slice. */
  next(): Promise<void>;
}

export function createSlices(sliceMs = SLICE_MS): Slices {
  let started = performance.now();
  return {
    due: () => performance.now() - started >= sliceMs,
    async next() {
      await nextTurn();
      started = performance.now();
    },
  };
}

/**
 * Work written as a generator that yields wherever it may be paused (between items): the same code runs at once for
 * callers that need a value now, and in slices for the server.
 */
export type Steps<T> = Generator<void, T, void>;

export function runAtOnce<T>(steps: Steps<T>): T {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

export async function runInSlices<T>(steps: Steps<T>, slices: Slices): Promise<T> {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    if (slices.due()) await slices.next();
  }
}
