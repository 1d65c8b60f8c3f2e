// Markdown tables of a benchmark run, as printed by `npm run bench` and pasted into docs/performance.md.
import type { BundleResults } from './bundle.ts';
import type { CloudWatchTimingRow, PackingRow } from './cloudwatch.ts';
import type { HttpRow } from './http.ts';
import type { MemoryRow } from './memory.ts';
import type { PipelineRow } from './pipeline.ts';

export interface Report {
  readonly date: string;
  readonly durationSeconds: number;
  readonly machine: Readonly<Record<string, string | number>>;
  readonly results: {
    readonly pipeline?: PipelineRow[];
    readonly http?: HttpRow[];
    readonly cloudwatch?: { packing: PackingRow[]; timing: CloudWatchTimingRow[] };
    readonly bundle?: BundleResults;
    readonly memory?: MemoryRow[];
  };
}

const ms = (value: number): string => (value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2));
const kb = (bytes: number): string => `${Math.round(bytes / 1024).toLocaleString('en-US')} KB`;
const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MB`;
const count = (value: number): string => value.toLocaleString('en-US');
const goal = (met: boolean): string => (met ? 'yes' : '**no**');

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((row) => `| ${row.join(' | ')} |`)].join('\n');
}

export function formatTables(report: Report): string {
  const { machine, results } = report;
  const sections = [`Run ${report.date} on ${machine.cpu} (${machine.cores} cores, ${machine.memoryGiB} GiB), Node ${machine.node}, ${report.durationSeconds} s.`];
  if (results.pipeline) {
    sections.push(
      '### 1. Pipeline (decode .. render, JSON lines to /dev/null), median ms per batch',
      table(
        ['mix', 'events', 'body', 'pipeline (p25–p75)', 'bare parse+stringify', 'naive receiver', 'vs bare (≤ 1.3)', 'vs naive (≤ 1)', 'events/s'],
        results.pipeline.map((row) => [
          row.mix,
          count(row.events),
          kb(row.bodyBytes),
          `${ms(row.pipelineMs)} (${ms(row.pipelineSpreadMs[0])}–${ms(row.pipelineSpreadMs[1])})`,
          ms(row.bareMs),
          ms(row.naiveMs),
          `${row.vsBare}`,
          `${row.vsNaive}`,
          count(row.eventsPerSecond),
        ]),
      ),
    );
  }
  if (results.http) {
    sections.push(
      '### 2. Local receiver over HTTP, 400-event batches, concurrent senders in another process',
      table(
        ['mix', 'senders', 'relay events/s', 'relay p50 / p99 ms', 'naive events/s', 'naive p50 / p99 ms', 'relay / naive (≥ 1)'],
        results.http.map((row) => [
          row.mix,
          `${row.senders}`,
          count(row.relay.eventsPerSecond),
          `${ms(row.relay.p50Ms)} / ${ms(row.relay.p99Ms)}`,
          count(row.naive.eventsPerSecond),
          `${ms(row.naive.p50Ms)} / ${ms(row.naive.p99Ms)}`,
          `${row.throughputRatio}`,
        ]),
      ),
    );
  }
  if (results.cloudwatch) {
    sections.push(
      '### 3. CloudWatch Logs sink against the stand-in',
      table(
        ['mix', 'events', 'record bytes', 'PutLogEvents calls', 'lower bound', 'equal'],
        results.cloudwatch.packing.map((row) => [row.mix, count(row.events), kb(row.recordBytes), `${row.calls}`, `${row.lowerBound}`, goal(row.calls === row.lowerBound)]),
      ),
      table(
        ['mix', 'events', 'relay ms per batch (p25–p75)', 'SDK alone, same calls', 'relay / SDK alone'],
        results.cloudwatch.timing.map((row) => [
          row.mix,
          count(row.events),
          `${ms(row.relayMs)} (${ms(row.relaySpreadMs[0])}–${ms(row.relaySpreadMs[1])})`,
          ms(row.sdkOnlyMs),
          `${row.vsSdkOnly}`,
        ]),
      ),
    );
  }
  if (results.bundle) {
    sections.push(
      '### 4. Lambda bundle (esbuild, minified, node22 ESM), cold import in a fresh process, median of 20',
      table(
        ['variant', 'size (< 1 MB)', 'import ms (p25–p75)', 'under 150 ms', 'empty import ms', 'largest parts'],
        results.bundle.variants.map((row) => [
          row.variant,
          `${kb(row.bytes)} ${goal(row.bytes < 2 ** 20) === 'yes' ? '' : '**over**'}`.trim(),
          `${ms(row.importMedianMs)} (${ms(row.importSpreadMs[0])}–${ms(row.importSpreadMs[1])})`,
          goal(row.importMedianMs < 150),
          ms(row.bareMedianMs),
          row.largest.map((part) => `${part.name} ${kb(part.bytes)}`).join(', '),
        ]),
      ),
      'The deployed bundle handling one batch in a fresh process against the stand-in, peak resident set (median of 5)',
      table(
        ['batch', 'events', 'body', 'status', 'peak RSS'],
        results.bundle.invocations.map((row) => [row.batch, count(row.events), mb(row.bodyBytes), `${row.status ?? '–'}`, mb(row.peakRssBytes)]),
      ),
    );
  }
  if (results.memory) {
    sections.push(
      '### 5. Peak resident memory above idle while handling a ~6 MB batch (median of 3 fresh processes)',
      table(
        ['mix', 'events', 'payload', 'relay above idle', 'relay / payload (< 4)', 'naive above idle', 'naive / payload', 'relay, --max-semi-space-size=2'],
        results.memory.map((row) => [
          row.mix,
          count(row.events),
          mb(row.payloadBytes),
          mb(row.relayAboveIdleBytes),
          `${row.relayPerPayload}`,
          mb(row.naiveAboveIdleBytes),
          `${row.naivePerPayload}`,
          `${mb(row.relaySmallYoungAboveIdleBytes)} (${row.relaySmallYoungPerPayload}x)`,
        ]),
      ),
    );
  }
  return `${sections.join('\n\n')}\n`;
}
