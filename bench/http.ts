// Benchmark 2: the local receiver end to end over HTTP (src/server.ts + the pipeline + JSON lines to /dev/null) with
// concurrent senders in a separate process, against a naive receiver (node:http, JSON.parse, write lines) driven the
// same way in the same run.
import { execFile } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startServer } from '../src/server.ts';
import { ratio } from './harness.ts';
import type { LoadResult } from './http-load.ts';
import { MIXES, type Mix } from './inputs.ts';
import { benchPipeline, naiveReceive } from './pipeline.ts';

const LOAD_GENERATOR = fileURLToPath(new URL('./http-load.ts', import.meta.url));
/** Concurrent senders: the webhook backend sends batches in parallel. */
const SENDERS = 4;
/** Batches of 400 per run: enough for a stable rate, few enough to keep the suite short. */
const BATCHES: Record<Mix, number> = { metadata: 60, requestresponse: 20 };
/** Each receiver runs this many times, alternating, and keeps its best run: load from other processes only slows. */
const ROUNDS = 2;

export interface HttpRow {
  readonly mix: Mix;
  readonly senders: number;
  readonly relay: LoadResult;
  readonly naive: LoadResult;
  /** Relay events/s over naive events/s; goal at least 1. */
  readonly throughputRatio: number;
}

interface Receiver {
  readonly url: string;
  close(): Promise<void>;
}

async function startRelay(devNull: WriteStream): Promise<Receiver> {
  return startServer({ pipeline: benchPipeline(devNull), host: '127.0.0.1', port: 0, maxBodyBytes: 64 * 1024 * 1024, log: () => {} });
}

/** A minimal receiver: read the body, parse it, write each item as a line, answer 200. */
async function startNaive(devNull: WriteStream): Promise<Receiver> {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.once('end', () => {
      naiveReceive(Buffer.concat(chunks), devNull).then(
        () => response.writeHead(200, { 'content-type': 'application/json' }).end('{}'),
        () => response.writeHead(500).end(),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

async function load(receiver: Receiver, mix: Mix, firstId: number): Promise<LoadResult> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', LOAD_GENERATOR, receiver.url, mix, String(BATCHES[mix]), String(SENDERS), String(firstId)],
    { maxBuffer: 1024 * 1024 },
  );
  const result = JSON.parse(stdout) as LoadResult;
  if (result.failed > 0) throw new Error(`http bench: ${result.failed} batches were not answered 200`);
  return result;
}

const best = (runs: readonly LoadResult[]): LoadResult => runs.reduce((a, b) => (b.eventsPerSecond > a.eventsPerSecond ? b : a));

export async function benchHttp(): Promise<HttpRow[]> {
  const devNull = createWriteStream('/dev/null', { flags: 'a' });
  const rows: HttpRow[] = [];
  let firstId = 0;
  for (const mix of MIXES) {
    const runs = { relay: [] as LoadResult[], naive: [] as LoadResult[] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, start] of [['relay', startRelay], ['naive', startNaive]] as const) {
        // The relay keeps one pipeline per server, so each run gets auditIDs it has not seen.
        const receiver = await start(devNull);
        runs[name].push(await load(receiver, mix, firstId));
        firstId += BATCHES[mix] * 400;
        await receiver.close();
      }
    }
    const relay = best(runs.relay);
    const naive = best(runs.naive);
    rows.push({ mix, senders: SENDERS, relay, naive, throughputRatio: ratio(relay.eventsPerSecond, naive.eventsPerSecond) });
  }
  devNull.end();
  return rows;
}
