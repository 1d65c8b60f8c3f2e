import { openAppendOutput, type OutputLog } from '../sinks/append-file.ts';
import { BestEffortQueue, type BestEffortStats, type OutputNote, type QueueTarget } from '../sinks/best-effort-queue.ts';
import { describeOutput, type OutputSpec } from '../sinks/output-uri.ts';
import { SinkError } from '../sinks/sink.ts';
import type { DetectionMatch } from './detector.ts';

/** One match as stored: its JSON line (identifying fields only, never event content) and that line's size. */
interface MatchLine {
  readonly line: string;
  readonly bytes: number;
}

/** `serve --detect-output`: where matches go, best-effort. */
export interface MatchOutput {
  /** Queues the match; never waits and never fails: a full queue drops it (counted). */
  offer(match: DetectionMatch): void;
  stats(): BestEffortStats;
  /** Waits up to `graceMs` for queued matches, then closes. */
  close(graceMs: number): Promise<void>;
}

export interface MatchOutputOptions {
  /** Each send's time (SINK_TIMEOUT_MS). */
  readonly timeoutMs: number;
  /** Bytes of matches that may wait (BEST_EFFORT_QUEUE_BYTES). */
  readonly capacityBytes: number;
  readonly note: (note: OutputNote) => void;
  /** Where the file output reports a repaired torn line. */
  readonly log: OutputLog;
}

/** Whether `spec` can take matches: a file (JSON lines) or an http(s) webhook (one JSON object per POST). */
export const isMatchOutput = (spec: OutputSpec): boolean => spec.kind === 'file' || spec.kind === 'http';

/**
 * Matches as JSON lines appended to a file, or POSTed one per request to an http(s) webhook (any 2xx is success), each
 * `{rule, severity, auditID, stage, user, verb, object, time}`, through a best-effort queue.
 */
export async function createMatchOutput(spec: OutputSpec, options: MatchOutputOptions): Promise<MatchOutput> {
  const target = await openTarget(spec, options.log);
  const queue = new BestEffortQueue<MatchLine>(target, { capacityBytes: options.capacityBytes, timeoutMs: options.timeoutMs, note: options.note });
  return {
    offer(match) {
      const line = `${JSON.stringify(match)}\n`;
      queue.offer([{ line, bytes: Buffer.byteLength(line) }]);
    },
    stats: () => queue.stats(),
    close: (graceMs) => queue.close(graceMs),
  };
}

async function openTarget(spec: OutputSpec, log: OutputLog): Promise<QueueTarget<MatchLine>> {
  const name = describeOutput(spec);
  if (spec.kind === 'file') {
    const file = await openAppendOutput(spec.path, log);
    return { name, send: (matches) => file.append(Buffer.from(matches.map((match) => match.line).join(''))), close: () => file.close() };
  }
  if (spec.kind !== 'http') throw new Error(`${name} cannot take detection matches: give a path, file:///PATH or an http(s):// webhook`);
  const url = spec.url;
  return {
    name,
    async send(matches, { signal }) {
      for (const match of matches) {
        const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: match.line, signal });
        await response.body?.cancel();
        if (response.status < 200 || response.status > 299) throw new SinkError(`detection webhook ${name} answered ${response.status}`, 'detect-output', matches.length);
      }
    },
    close: async () => {},
  };
}
