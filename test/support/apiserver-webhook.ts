// How kube-apiserver's webhook backend delivers a batch (k8s.io/apiserver plugin/pkg/audit/webhook): POST the
// EventList, and on any answer outside 200-206 or a transport error send the whole batch again, 5 attempts in all
// with a 10 s x 1.5 backoff, then drop it. Tests scale the backoff down; the sequence is the same.
import { randomUUID } from 'node:crypto';

export const API_SERVER_ATTEMPTS = 5;

export interface WebhookOutcome {
  /** Attempts per batch, in batch order. */
  readonly attempts: number[];
  /** Batches the API server would have dropped after its last attempt. */
  readonly dropped: number;
  /** Answers outside 200-206 and transport errors seen, by status (0 for a transport error). */
  readonly failures: Map<number, number>;
}

/** `post` returns the HTTP status or throws for a transport error (reset, timeout). */
export async function deliverLikeApiServer(
  bodies: readonly string[],
  post: (body: string) => Promise<number>,
  { backoffMs = 0 }: { backoffMs?: number } = {},
): Promise<WebhookOutcome> {
  const attempts: number[] = [];
  const failures = new Map<number, number>();
  let dropped = 0;
  for (const body of bodies) {
    let attempt = 0;
    let delivered = false;
    while (!delivered && attempt < API_SERVER_ATTEMPTS) {
      if (attempt > 0 && backoffMs > 0) await new Promise((resolve) => setTimeout(resolve, backoffMs * 1.5 ** (attempt - 1)));
      attempt++;
      const status = await post(body).catch(() => 0);
      delivered = status >= 200 && status <= 206;
      if (!delivered) failures.set(status, (failures.get(status) ?? 0) + 1);
    }
    attempts.push(attempt);
    if (!delivered) dropped++;
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
