// Markdown tables of a benchmark run, as printed by `npm run bench` and pasted into docs/performance.md.
import type { BundleResults } from './bundle.ts';
import type { CloudWatchTimingRow, PackingRow } from './cloudwatch.ts';
import type { MemoryRow } from './memory.ts';
import type { PipelineRow } from './pipeline.ts';
import type { RssRow } from './rss.ts';
import type { ServeResults, Spread } from './serve.ts';

export interface Report {
  readonly date: string;
  readonly durationSeconds: number;
  readonly machine: Readonly<Record<string, string | number>>;
  readonly results: {
    readonly serve?: ServeResults;
    readonly rss?: RssRow[];
    readonly pipeline?: PipelineRow[];
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
const range = (spread: Spread, format: (value: number) => string): string => `${format(spread.median)} (${format(spread.min)}–${format(spread.max)})`;
const times = (value: number): string => `${value.toFixed(2)}x`;

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((row) => `| ${row.join(' | ')} |`)].join('\n');
}

/** The line that says where and when the run was made. */
export const formatRun = (report: Report): string =>
  `Run ${report.date} on ${report.machine.cpu} (${report.machine.cores} cores, ${report.machine.memoryGiB} GiB), Node ${report.machine.node}, ${report.durationSeconds} s.\n`;

/** The tables of the benchmarks in `results`, printed as each one finishes. */
export function formatResults(results: Report['results']): string {
  const sections: string[] = [];
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
  if (results.serve) {
    const { serve } = results;
    const against = ['naive node', ...(serve.goSkipped ? [] : ['Go stdlib'])];
    const short = (name: string): string => (name === 'naive node' ? 'naive' : 'Go');
    sections.push(
      `### \`serve\` against the naive node receiver${serve.goSkipped ? '' : ' and Go'}: ${count(serve.events)}-event replay, ${serve.senders} concurrent senders, median (range) of ${serve.rounds} interleaved rounds`,
      table(
        ['mix', 'program', 'wall s', 'events/s', 'CPU µs per event', ...against.flatMap((name) => [`wall vs ${short(name)}`, `CPU vs ${short(name)}`])],
        serve.rows.map((row) => [
          row.mix,
          row.program,
          range(row.wallSeconds, (value) => value.toFixed(2)),
          count(row.eventsPerSecond),
          range(row.cpuUsPerEvent, (value) => value.toFixed(1)),
          ...against.flatMap((name) => {
            const versus = row.versus[name];
            return versus ? [range(versus.wall, times), range(versus.cpu, times)] : ['–', '–'];
          }),
        ]),
      ),
      'Goals for the relay rows: wall vs naive at most 1x on both mixes; CPU vs naive at most 1.2x on Metadata.',
      ...(serve.goSkipped ? [`The Go receiver was left out: ${serve.goSkipped}.`] : []),
    );
  }
  if (results.rss) {
    sections.push(
      '### Resident memory of each program: at rest, and its peak above that for one ~6 MB batch (median of 3 fresh processes)',
      table(
        ['mix', 'program', 'events', 'payload', 'idle RSS (relay ≤ 60 MB)', 'peak above idle', 'over payload (relay ≤ 4)'],
        results.rss.map((row) => [row.mix, row.program, count(row.events), mb(row.payloadBytes), mb(row.idleBytes), mb(row.peakAboveIdleBytes), `${row.peakPerPayload}x`]),
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
      '### 4. Lambda bundle (esbuild, minified, node22 ESM), cold start in a fresh process, median (min–max) of 12 alternating; "+ first" is the import and the first invocation (token from SSM, 400 events stored)',
      table(
        ['variant', 'node', 'size, static (static < 1 MB)', 'import ms', 'under 120 ms', 'import CPU ms', '+ first ms', '+ first CPU ms', 'empty import ms', 'largest parts loaded at import'],
        results.bundle.variants.map((row) => {
          const spread = (median: number, [low, high]: readonly [number, number]) => `${ms(median)} (${ms(low)}–${ms(high)})`;
          return [
            row.variant,
            row.node,
            // Every cold start parses the static part; the chunks of outputs only some configurations use load on first use.
            `${kb(row.bytes)}, ${kb(row.staticBytes)}${goal(row.staticBytes < 2 ** 20) === 'yes' ? '' : ' **over**'}`,
            spread(row.importMedianMs, row.importRangeMs),
            goal(row.importMedianMs < 120),
            spread(row.importCpuMedianMs, row.importCpuRangeMs),
            spread(row.firstMedianMs, row.firstRangeMs),
            spread(row.firstCpuMedianMs, row.firstCpuRangeMs),
            ms(row.bareMedianMs),
            row.largest.map((part) => `${part.name} ${kb(part.bytes)}`).join(', '),
          ];
        }),
      ),
      'The deployed bundle handling one batch in a fresh process against the stand-in, peak resident set (median of 5)',
      table(
        ['batch', 'events', 'body', 'status', 'peak RSS'],
        results.bundle.invocations.map((row) => [row.batch, count(row.events), mb(row.bodyBytes), `${row.status ?? '–'}`, mb(row.peakRssBytes)]),
      ),
      'The deployed bundle handling batches of up to 400 events warm (after one cold invocation, PutLogEvents to the stand-in), against the bare pipeline on the same bodies',
      table(
        ['mix', 'batches', 'events each', 'handler ms (p25–p75)', 'bare pipeline ms', 'handler / pipeline'],
        (results.bundle.warm ?? []).map((row) => [row.mix, `${row.batches}`, count(row.events ?? 400), `${ms(row.handlerMs)} (${ms(row.handlerSpreadMs[0])}–${ms(row.handlerSpreadMs[1])})`, ms(row.pipelineMs), `${row.handlerOverPipeline}`]),
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
