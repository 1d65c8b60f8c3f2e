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
 * Cuts items into calls: first into as few 24-hour windows as the timestamps allow (greedy over sorted time is optimal
 * for that), then within each window first-fit-decreasing by size, since order inside a window does not matter once
 * each call is sorted. Every call comes back sorted by timestamp. Each item must fit a call on its own.
 */
export function packCalls<T extends Packable>(items: readonly T[], limits: PackLimits = PUT_LOG_EVENTS_LIMITS): T[][] {
  return timeWindows(items, limits.maxSpanMs).flatMap((window) => firstFitDecreasing(window, limits));
}

function timeWindows<T extends Packable>(items: readonly T[], maxSpanMs: number): T[][] {
  const sorted = [...items].sort((a, b) => a.timestamp - b.timestamp);
  const windows: T[][] = [];
  for (const item of sorted) {
    const current = windows[windows.length - 1];
    if (current && item.timestamp - current[0]!.timestamp <= maxSpanMs) current.push(item);
    else windows.push([item]);
  }
  return windows;
}

function firstFitDecreasing<T extends Packable>(window: readonly T[], limits: PackLimits): T[][] {
  const bins: { items: T[]; bytes: number }[] = [];
  for (const item of [...window].sort((a, b) => b.bytes - a.bytes)) {
    const size = item.bytes + limits.overheadBytes;
    let bin = bins.find((candidate) => candidate.items.length < limits.maxEvents && candidate.bytes + size <= limits.maxBytes);
    if (!bin) {
      bin = { items: [], bytes: 0 };
      bins.push(bin);
    }
    bin.items.push(item);
    bin.bytes += size;
  }
  return bins.map((bin) => bin.items.sort((a, b) => a.timestamp - b.timestamp));
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
