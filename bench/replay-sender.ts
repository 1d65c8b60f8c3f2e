// Child process of the serve benchmark: sends replays to the compared programs the way kube-apiserver's webhook
// does (the project's own replay sender: EventLists of at most 400 events, POSTed with the API server's headers and
// `?timeout=30s`, over keep-alive connections), from concurrent senders, in a process of its own so that it never
// shares an event loop with a receiver. Driven over IPC: `prepare` builds the bodies (untimed), `send` times
// sending them.
import { batches } from '../test/support/event-lists.ts';
import { quantile } from './harness.ts';
import { eventLines, type Mix } from './inputs.ts';
import { deliver, type Backoff } from '../src/replay/webhook-sender.ts';

export type SenderRequest =
  | { readonly type: 'prepare'; readonly mix: Mix; readonly events: number; readonly firstId: number; readonly batchSize: number }
  | { readonly type: 'send'; readonly url: string; readonly senders: number };

export type SenderReply =
  | { readonly type: 'ready'; readonly batches: number; readonly bytes: number }
  | { readonly type: 'sent'; readonly result: ReplayResult }
  | { readonly type: 'error'; readonly message: string };

export interface ReplayResult {
  readonly seconds: number;
  readonly batches: number;
  /** Batches answered other than 2xx or not answered; a sample with any is refused. */
  readonly failed: number;
  /** Why the first failed batch failed. */
  readonly firstFailure?: string;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** A failure fails the sample: the benchmark measures receivers that keep up, not the API server's retries. */
const ONE_ATTEMPT: Backoff = { initialMs: 0, factor: 1, jitter: 0, attempts: 1 };

let bodies: string[] = [];

async function send(url: string, senders: number): Promise<ReplayResult> {
  const target = { url: new URL(url), rejectUnauthorized: true, timeoutMs: 30_000 };
  const signal = new AbortController().signal;
  const latencies: number[] = [];
  let failed = 0;
  let firstFailure: string | undefined;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: senders }, async () => {
      while (next < bodies.length) {
        const body = bodies[next++]!;
        const sent = performance.now();
        const outcome = await deliver(target, body, ONE_ATTEMPT, signal);
        latencies.push(performance.now() - sent);
        if (!outcome.delivered) {
          failed++;
          firstFailure ??= outcome.lastFailure;
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { seconds, batches: bodies.length, failed, ...(firstFailure ? { firstFailure } : {}), p50Ms: quantile(latencies, 0.5), p99Ms: quantile(latencies, 0.99) };
}

async function handle(request: SenderRequest): Promise<SenderReply> {
  if (request.type === 'prepare') {
    bodies = batches(eventLines(request.mix, request.events, { firstId: request.firstId }), request.batchSize);
    return { type: 'ready', batches: bodies.length, bytes: bodies.reduce((sum, body) => sum + Buffer.byteLength(body), 0) };
  }
  return { type: 'sent', result: await send(request.url, request.senders) };
}

process.on('message', (request: SenderRequest) => {
  handle(request).then(
    (reply) => process.send!(reply),
    (error: unknown) => process.send!({ type: 'error', message: String((error as Error).stack ?? error) } satisfies SenderReply),
  );
});
process.on('disconnect', () => process.exit(0));
