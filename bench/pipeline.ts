// Benchmark 1: the whole pipeline (decode, validate, filter, redact, render, JSON-lines sink to /dev/null) against
// two baselines in the same run: bare JSON.parse + JSON.stringify of each item, and a naive receiver that also
// writes the lines.
import { createWriteStream, type WriteStream } from 'node:fs';
import { readPipelineConfig, SettingsReader } from '../src/config.ts';
import { createPipeline, type Pipeline, type ReceiveRequest } from '../src/pipeline.ts';
import { createStreamSink } from '../src/sinks/json-lines.ts';
import { measure, ratio } from './harness.ts';
import { BATCH_SIZES, eventListBody, MIXES, type Mix } from './inputs.ts';

/**
 * A deployment's usual settings: a cluster name (so every event is annotated) and Secret redaction on. The body limit
 * is raised because the 5,000-event RequestResponse batch of the fixtures is about 110 MB, over the 64 MiB default:
 * this benchmark measures the pipeline's work per event, not the limit.
 */
export const BENCH_ENV = { CLUSTER_NAME: 'bench', AUTH_MODE: 'none', REDACT_SECRETS: 'true', MAX_BODY_BYTES: String(256 * 1024 * 1024) } as const;

export interface PipelineRow {
  readonly mix: Mix;
  readonly events: number;
  readonly bodyBytes: number;
  readonly pipelineMs: number;
  readonly pipelineSpreadMs: readonly [number, number];
  readonly bareMs: number;
  readonly naiveMs: number;
  /** Pipeline time over bare parse+stringify; goal at most 1.3. */
  readonly vsBare: number;
  /** Pipeline time over the naive receiver; goal at most 1. */
  readonly vsNaive: number;
  /** Events per second through the pipeline. */
  readonly eventsPerSecond: number;
}

/**
 * The relay's pipeline writing JSON lines to `stream`, as `kube-audit-relay serve` does with stdout (without its retry
 * memory, so the same body can be sent again and again).
 */
export function benchPipeline(stream: WriteStream): Pipeline {
  return createPipeline({ config: readPipelineConfig(new SettingsReader(BENCH_ENV)), sink: createStreamSink(stream) });
}

export const postRequest = (body: Uint8Array): ReceiveRequest => ({
  method: 'POST',
  path: '/',
  headers: { 'content-type': 'application/json' },
  body,
});

/** Baseline: what any receiver must do at least, parse the list and serialise each item. */
export function bareParseStringify(body: Buffer): string[] {
  const list = JSON.parse(body.toString('utf8')) as { items: unknown[] };
  return list.items.map((item) => JSON.stringify(item));
}

/** Baseline: a receiver that checks nothing, parsing, serialising and writing each item as a line. */
export function naiveReceive(body: Buffer, stream: WriteStream): Promise<void> {
  const lines = bareParseStringify(body);
  return new Promise((resolve, reject) => {
    stream.write(`${lines.join('\n')}\n`, (error) => (error ? reject(error) : resolve()));
  });
}

export async function benchPipelines(): Promise<PipelineRow[]> {
  const devNull = createWriteStream('/dev/null', { flags: 'a' });
  const pipeline = benchPipeline(devNull);
  const rows: PipelineRow[] = [];
  for (const mix of MIXES) {
    for (const events of BATCH_SIZES) {
      const body = eventListBody(mix, events);
      const check = await pipeline.receive(postRequest(body));
      if (check.status !== 200 || check.counts.written !== events) {
        throw new Error(`pipeline bench: ${mix} x ${events} answered ${check.status} (${check.message})`);
      }
      const measured = await measure(
        [
          {
            name: 'pipeline',
            run: async () => {
              const result = await pipeline.receive(postRequest(body));
              if (result.status !== 200) throw new Error(result.message);
            },
          },
          { name: 'bare', run: () => bareParseStringify(body) },
          { name: 'naive', run: () => naiveReceive(body, devNull) },
        ],
        { timeMs: events >= 5_000 ? 1_500 : 500, minSamples: events >= 5_000 ? 8 : 20 },
      );
      const pipelineStats = measured.get('pipeline')!;
      const bareMs = measured.get('bare')!.medianMs;
      const naiveMs = measured.get('naive')!.medianMs;
      rows.push({
        mix,
        events,
        bodyBytes: body.byteLength,
        pipelineMs: pipelineStats.medianMs,
        pipelineSpreadMs: [pipelineStats.p25Ms, pipelineStats.p75Ms],
        bareMs,
        naiveMs,
        vsBare: ratio(pipelineStats.medianMs, bareMs),
        vsNaive: ratio(pipelineStats.medianMs, naiveMs),
        eventsPerSecond: Math.round((events / pipelineStats.medianMs) * 1000),
      });
    }
  }
  devNull.end();
  return rows;
}
