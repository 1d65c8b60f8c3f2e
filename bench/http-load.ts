// Load generator for the HTTP benchmark, run as its own process so that it does not share the receiver's event loop.
// argv: <url> <mix> <batches> <senders> <firstId>. Builds `batches` EventLists of 400 events first, then POSTs them
// over keep-alive connections from `senders` concurrent senders (as the API server's webhook backend sends
// batches in parallel), and prints one JSON line: events/s over the whole run and per-batch latency quantiles.
import { Agent, request } from 'node:http';
import { quantile } from './harness.ts';
import { eventListBody, type Mix } from './inputs.ts';

export const BATCH_EVENTS = 400;

export interface LoadResult {
  readonly batches: number;
  readonly events: number;
  readonly seconds: number;
  readonly eventsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Answers other than 200; must be 0 for the figures to count. */
  readonly failed: number;
}

const [url, mix, batchCount, senderCount, firstId] = process.argv.slice(2);
const batches = Number(batchCount);
const bodies = Array.from({ length: batches }, (_, i) => eventListBody(mix as Mix, BATCH_EVENTS, { firstId: Number(firstId) + i * BATCH_EVENTS }));
const agent = new Agent({ keepAlive: true, maxSockets: Number(senderCount) });

function post(body: Buffer): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const call = request(url!, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': body.byteLength } }, (response) => {
      response.resume();
      response.once('end', () => resolve({ status: response.statusCode ?? 0, ms: performance.now() - started }));
    });
    call.once('error', reject);
    call.end(body);
  });
}

const latencies: number[] = [];
let failed = 0;
let next = 0;
const started = performance.now();
await Promise.all(
  Array.from({ length: Number(senderCount) }, async () => {
    while (next < bodies.length) {
      const { status, ms } = await post(bodies[next++]!);
      latencies.push(ms);
      if (status !== 200) failed++;
    }
  }),
);
const seconds = (performance.now() - started) / 1000;
agent.destroy();
latencies.sort((a, b) => a - b);
const result: LoadResult = {
  batches,
  events: batches * BATCH_EVENTS,
  seconds,
  eventsPerSecond: Math.round((batches * BATCH_EVENTS) / seconds),
  p50Ms: quantile(latencies, 0.5),
  p99Ms: quantile(latencies, 0.99),
  failed,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
