// Packing records into PutLogEvents calls: pure, so the limits can be tested and the benchmark can compare the number
// of calls against the lower bound.

/** PutLogEvents' per-call limits. */
export interface PackLimits {
  /** Events per call: 10,000. */
  readonly maxEvents: number;
  /** Bytes per call, counting each message's UTF-8 length plus `overheadBytes`: 1,048,576. */
  readonly maxBytes: number;
  /** Added to each event's length: 26. */
  readonly overheadBytes: number;
  /** Largest allowed distance between the first and last timestamp of a call: 24 h. */
  readonly maxSpanMs: number;
}

export const PUT_LOG_EVENTS_LIMITS: PackLimits = {
  maxEvents: 10_000,
  maxBytes: 1_048_576,
  overheadBytes: 26,
  maxSpanMs: 24 * 3_600_000,
};

export interface Packable {
  readonly timestamp: number;
  /** UTF-8 length of the message, without the per-event overhead. */
  readonly bytes: number;
}

/**
 * Sorts items by timestamp (stable) and cuts them greedily into calls. For sorted input greedy cutting yields the
 * fewest contiguous calls; each item must fit a call on its own (bytes + overhead <= maxBytes).
 */
export function packCalls<T extends Packable>(items: readonly T[], limits: PackLimits = PUT_LOG_EVENTS_LIMITS): T[][] {
  const sorted = [...items].sort((a, b) => a.timestamp - b.timestamp);
  const calls: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of sorted) {
    const size = item.bytes + limits.overheadBytes;
    const first = current[0];
    if (
      first !== undefined &&
      (current.length >= limits.maxEvents || bytes + size > limits.maxBytes || item.timestamp - first.timestamp > limits.maxSpanMs)
    ) {
      calls.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) calls.push(current);
  return calls;
}

/**
 * The fewest calls any packing could use: the largest of the count bound, the byte bound and the number of 24-hour
 * windows the timestamps need.
 */
export function packLowerBound(items: readonly Packable[], limits: PackLimits = PUT_LOG_EVENTS_LIMITS): number {
  if (items.length === 0) return 0;
  const totalBytes = items.reduce((sum, item) => sum + item.bytes + limits.overheadBytes, 0);
  const timestamps = items.map((item) => item.timestamp).sort((a, b) => a - b);
  let windows = 1;
  let windowStart = timestamps[0]!;
  for (const timestamp of timestamps) {
    if (timestamp - windowStart > limits.maxSpanMs) {
      windows++;
      windowStart = timestamp;
    }
  }
  return Math.max(Math.ceil(items.length / limits.maxEvents), Math.ceil(totalBytes / limits.maxBytes), windows);
}
