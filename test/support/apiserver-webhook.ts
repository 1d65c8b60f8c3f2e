// Delivery as kube-apiserver's webhook does it (src/replay/webhook-sender.ts: 5 attempts, whole batch, then dropped),
// with the backoff waits left out, and events generated from the real corpus.
import { randomUUID } from 'node:crypto';
import { API_SERVER_BACKOFF, deliverWith, type Poster } from '../../src/replay/webhook-sender.ts';

export interface WebhookOutcome {
  /** Attempts per batch, in batch order. */
  readonly attempts: number[];
  /** Batches the API server would have dropped after its last attempt. */
  readonly dropped: number;
  /** Failed attempts that were retried, by failure ("HTTP 503", "client timeout"). */
  readonly failures: Map<string, number>;
}

/** Delivers each body in turn with the API server's retries, without sleeping between attempts. */
export async function deliverLikeApiServer(bodies: readonly string[], post: Poster): Promise<WebhookOutcome> {
  const attempts: number[] = [];
  const failures = new Map<string, number>();
  let dropped = 0;
  const signal = new AbortController().signal;
  for (const body of bodies) {
    const outcome = await deliverWith(post, body, { ...API_SERVER_BACKOFF, initialMs: 0 }, signal, (failure) => {
      failures.set(failure, (failures.get(failure) ?? 0) + 1);
    });
    attempts.push(outcome.attempts);
    if (!outcome.delivered) dropped++;
  }
  return { attempts, dropped, failures };
}

/**
 * `count` distinct events made from the real corpus: each a real event with a fresh auditID and, when `recentMs` is
 * given, timestamps within the last `recentMs` (so destinations that refuse old events take them as they are).
 */
export function generatedEvents(corpus: readonly string[], count: number, recentMs?: number): string[] {
  const now = Date.now();
  return Array.from({ length: count }, (_, index) => {
    const event = JSON.parse(corpus[index % corpus.length]!) as Record<string, unknown>;
    event.auditID = randomUUID();
    if (recentMs !== undefined) {
      const time = new Date(now - recentMs + Math.floor((index / count) * recentMs)).toISOString().replace('Z', '000Z');
      for (const field of ['requestReceivedTimestamp', 'stageTimestamp', 'timestamp']) if (event[field] !== undefined) event[field] = time;
    }
    return JSON.stringify(event);
  });
}
