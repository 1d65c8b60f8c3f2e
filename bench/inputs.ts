// Benchmark inputs: EventList bodies as kube-apiserver's webhook sends them, built from the project's fixture events.
import type { AuditEvent } from '../src/audit/types.ts';
import { eventList } from '../test/support/event-lists.ts';
import { fixtureFiles } from '../test/support/records.ts';

/** Which events a batch is made of: the fixtures' Metadata and Request events, or their RequestResponse events. */
export const Mix = {
  Metadata: 'metadata',
  RequestResponse: 'requestresponse',
} as const;
export type Mix = (typeof Mix)[keyof typeof Mix];

export const MIXES: readonly Mix[] = [Mix.Metadata, Mix.RequestResponse];
/** Batch sizes: one event, a small batch, the API server's default --audit-webhook-batch-max-size, and a backlog. */
export const BATCH_SIZES: readonly number[] = [1, 100, 400, 5_000];

let corpus: Map<Mix, string[]> | undefined;

/** The fixture lines of one mix, in corpus order. */
export function mixLines(mix: Mix): readonly string[] {
  corpus ??= splitCorpus();
  return corpus.get(mix)!;
}

function splitCorpus(): Map<Mix, string[]> {
  const split = new Map<Mix, string[]>(MIXES.map((mix) => [mix, []]));
  for (const { lines } of fixtureFiles()) {
    for (const line of lines) {
      const { level } = JSON.parse(line) as AuditEvent;
      split.get(level === 'RequestResponse' ? Mix.RequestResponse : Mix.Metadata)!.push(line);
    }
  }
  return split;
}

/** A UUID-shaped auditID that no fixture uses: the same corpus line repeated is then a new event, as in a busy cluster. */
export const benchAuditId = (n: number): string => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

export interface LineOptions {
  /** Number of the first event's auditID; batches built with disjoint ranges share no (auditID, stage). */
  readonly firstId?: number;
  /**
   * Milliseconds since the epoch: when given, the events' own times become this plus their index in ms, for
   * destinations that refuse events older than 14 days (the fixtures are years old).
   */
  readonly at?: number;
}

const EVENT_TIMES = /"(stageTimestamp|requestReceivedTimestamp|timestamp)":"[^"]*"/g;

/**
 * `count` event lines of a mix, cycling through its fixture lines, each with a fresh auditID (the line's text
 * otherwise unchanged, times aside when `at` is given), so that a sink's retry de-duplication never skips them.
 */
export function eventLines(mix: Mix, count: number, options: LineOptions = {}): string[] {
  const source = mixLines(mix);
  const firstId = options.firstId ?? 0;
  return Array.from({ length: count }, (_, i) => {
    const line = source[i % source.length]!.replace(/"auditID":"[^"]*"/, `"auditID":"${benchAuditId(firstId + i)}"`);
    if (options.at === undefined) return line;
    const time = new Date(options.at + i).toISOString();
    return line.replace(EVENT_TIMES, (_match, key: string) => `"${key}":"${time}"`);
  });
}

/** An `audit.k8s.io/v1` EventList body of `count` events of the mix. */
export const eventListBody = (mix: Mix, count: number, options: LineOptions = {}): Buffer =>
  Buffer.from(eventList(eventLines(mix, count, options)), 'utf8');
