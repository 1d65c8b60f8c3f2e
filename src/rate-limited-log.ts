/** A structured log function, as `serve` writes to stderr. */
export type Log = (entry: Readonly<Record<string, unknown>>) => void;

/**
 * Logs an entry the first time its key (e.g. reason and peer address) is seen in a window, and counts the repeats,
 * reported with the next entry logged for that key: a client retrying a failing TLS handshake in a loop cannot flood
 * the log, and one that fails once is still seen.
 */
export function createRateLimitedLog(log: Log, windowMs = 60_000, maxKeys = 1_000): (key: string, entry: Readonly<Record<string, unknown>>) => void {
  const windows = new Map<string, { until: number; repeats: number }>();
  return (key, entry) => {
    const now = Date.now();
    const window = windows.get(key);
    if (window && now < window.until) {
      window.repeats++;
      return;
    }
    if (windows.size >= maxKeys) {
      for (const [seen, { until }] of windows) if (until <= now) windows.delete(seen);
      // Still full: many peers failing at once; forget the oldest rather than grow without bound.
      if (windows.size >= maxKeys) windows.delete(windows.keys().next().value as string);
    }
    windows.delete(key);
    windows.set(key, { until: now + windowMs, repeats: 0 });
    log({ ...entry, ...(window?.repeats ? { repeatsNotLogged: window.repeats } : {}) });
  };
}
