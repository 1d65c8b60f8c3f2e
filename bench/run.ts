// `npm run bench`: runs the benchmarks, prints the tables and writes bench/results/latest.json.
// `npm run bench -- serve rss` runs only the named ones (serve, rss, pipeline, cloudwatch, bundle, memory); memory,
// the in-process predecessor of rss, runs only when named.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { benchBundle } from './bundle.ts';
import { benchCloudWatch } from './cloudwatch.ts';
import { benchMemory } from './memory.ts';
import { benchPipelines } from './pipeline.ts';
import { formatResults, formatRun, type Report } from './report.ts';
import { benchRss } from './rss.ts';
import { benchServe } from './serve.ts';

const BENCHMARKS = {
  serve: benchServe,
  rss: benchRss,
  pipeline: benchPipelines,
  cloudwatch: benchCloudWatch,
  bundle: benchBundle,
  memory: benchMemory,
} as const;
type Name = keyof typeof BENCHMARKS;
const DEFAULT: readonly Name[] = ['serve', 'rss', 'pipeline', 'cloudwatch', 'bundle'];

const asked = process.argv.slice(2);
const unknown = asked.filter((name) => !(name in BENCHMARKS));
if (unknown.length > 0) {
  process.stderr.write(`unknown benchmark ${unknown.join(', ')}; choose from ${Object.keys(BENCHMARKS).join(', ')}\n`);
  process.exit(2);
}
const names = (asked.length > 0 ? asked : DEFAULT) as Name[];

const started = Date.now();
const results: Record<string, unknown> = {};
for (const name of names) {
  const benchStarted = Date.now();
  process.stderr.write(`${name}...`);
  results[name] = await BENCHMARKS[name]();
  process.stderr.write(` ${((Date.now() - benchStarted) / 1000).toFixed(0)} s\n`);
  // Each table as soon as it is known: a later benchmark that fails does not take it along.
  process.stdout.write(`${formatResults({ [name]: results[name] } as Report['results'])}\n`);
}

const report: Report = {
  date: new Date(started).toISOString(),
  durationSeconds: Math.round((Date.now() - started) / 1000),
  machine: {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  },
  results: results as Report['results'],
};
process.stdout.write(formatRun(report));
const dir = fileURLToPath(new URL('./results/', import.meta.url));
mkdirSync(dir, { recursive: true });
// A partial run keeps its own file so that the committed full run is not overwritten by it.
const file = `${dir}${asked.length > 0 ? `partial-${names.join('-')}` : 'latest'}.json`;
writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
process.stderr.write(`wrote ${file}\n`);
