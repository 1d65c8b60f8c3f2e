// What the pipeline hands a sink for one batch: a signal that aborts when the time is up, and that time.
import type { SendContext } from '../../src/sinks/sink.ts';

/** A context whose signal aborts after `ms` (default one minute: longer than any test waits). */
export function sendContext(ms = 60_000): SendContext {
  return { signal: AbortSignal.timeout(ms), deadline: Date.now() + ms };
}
