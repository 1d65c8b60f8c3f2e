// Benchmark 4: the Lambda handler bundle, built with esbuild as serverless.yml's custom.esbuild does (bundle, minify,
// node22, ESM split into chunks with a require shim, source map, NODE_OPTIONS=--enable-source-maps), then without source maps, then
// with the AWS SDK left to the nodejs22.x runtime: size, what is big (from the metafile), and cold import time in
// fresh processes against a bare process. Then the deployed variant's peak resident set per invocation, against the
// CloudWatch Logs stand-in, which sizes serverless.yml's memorySize.
import { execFile } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build, type Metafile } from 'esbuild';
import { startCloudWatchLogsStandIn } from '../tools/dev/cloudwatch-logs-standin.ts';
import { median, quantile, ratio } from './harness.ts';
import { benchPipeline, postRequest } from './pipeline.ts';
import { eventListBody, Mix } from './inputs.ts';
import { sixMegabyteBody } from './memory.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const COLD_START = fileURLToPath(new URL('./cold-start.mjs', import.meta.url));
/** Git-ignored and inside the project, so an external @aws-sdk resolves from node_modules as it would from the runtime. */
const OUT_DIR = join(ROOT, '.esbuild', 'bench');
const COLD_STARTS = 20;
const INVOCATIONS = 5;
/** What the handler reads at import and first use; the import itself must not fail or reach AWS. */
const HANDLER_ENV: NodeJS.ProcessEnv = {
  PATH: process.env.PATH,
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'AKIDBENCH',
  AWS_SECRET_ACCESS_KEY: 'bench-secret',
  AWS_LAMBDA_FUNCTION_NAME: 'kube-audit-relay-bench-receive',
  LOG_GROUP_NAME: '/kube-audit-relay/bench/audit',
  AUTH_MODE: 'none',
  CLUSTER_NAME: 'bench',
  POWERTOOLS_SERVICE_NAME: 'kube-audit-relay',
  POWERTOOLS_METRICS_NAMESPACE: 'KubeAuditRelay',
};

interface Variant {
  readonly name: string;
  readonly external: readonly string[];
  readonly sourcemap: boolean;
  /** Node options of the Lambda environment. */
  readonly nodeOptions: readonly string[];
}

const VARIANTS: readonly Variant[] = [
  // serverless.yml: exclude: [], sourcemap: true, NODE_OPTIONS=--enable-source-maps.
  { name: 'as deployed: SDK bundled, source maps on', external: [], sourcemap: true, nodeOptions: ['--enable-source-maps'] },
  { name: 'SDK bundled, no source maps', external: [], sourcemap: false, nodeOptions: [] },
  // The nodejs22.x runtime ships AWS SDK v3; node_modules stands in for its copy.
  { name: 'SDK external, no source maps', external: ['@aws-sdk/*'], sourcemap: false, nodeOptions: [] },
];

export interface BundleResults {
  readonly variants: BundleRow[];
  readonly invocations: InvocationRow[];
  readonly warm: WarmRow[];
}

/** Warm invocations of the deployed bundle with batches of up to 400 events, against the bare pipeline on the same bodies. */
export interface WarmRow {
  readonly mix: Mix;
  readonly batches: number;
  /** Events per batch: 400, or fewer when 400 of the mix's events are over Lambda's payload limit. */
  readonly events: number;
  /** Median ms per warm invocation: the handler, the pipeline and PutLogEvents to the stand-in. */
  readonly handlerMs: number;
  readonly handlerSpreadMs: readonly [number, number];
  /** Median ms of the in-process pipeline writing JSON lines to /dev/null, same bodies. */
  readonly pipelineMs: number;
  readonly handlerOverPipeline: number;
}

export interface BundleRow {
  readonly variant: string;
  /** The entry and every chunk it may load, source maps left out. */
  readonly bytes: number;
  readonly importMedianMs: number;
  readonly importSpreadMs: readonly [number, number];
  /** Import time of nothing in the same kind of fresh process. */
  readonly bareMedianMs: number;
  /** Largest packages in the output, bytes. */
  readonly largest: readonly { readonly name: string; readonly bytes: number }[];
}

/** One invocation of the deployed bundle in a fresh process. */
export interface InvocationRow {
  readonly batch: string;
  readonly events: number;
  readonly bodyBytes: number;
  readonly status: number | undefined;
  /** Median over invocations of the process's peak resident set, start-up included, as Lambda's memory limit counts it. */
  readonly peakRssBytes: number;
}

async function bundle(variant: Variant, index: number): Promise<{ file: string; metafile: Metafile }> {
  const dir = join(OUT_DIR, String(index));
  const file = join(dir, 'receive.mjs');
  mkdirSync(dir, { recursive: true });
  const { metafile } = await build({
    entryPoints: [join(ROOT, 'functions/aws/receive.ts')],
    outdir: dir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    minify: true,
    splitting: true,
    mainFields: ['module', 'main'],
    platform: 'node',
    target: 'node22',
    format: 'esm',
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
    external: [...variant.external],
    sourcemap: variant.sourcemap,
    metafile: true,
    logLevel: 'error',
  });
  return { file, metafile };
}

const codeBytes = (metafile: Metafile): number =>
  Object.entries(metafile.outputs).reduce((sum, [path, output]) => (path.endsWith('.map') ? sum : sum + output.bytes), 0);

/** Output bytes per package (node_modules/<name> or <scope>/<name>), else per project directory. */
function largestPackages(metafile: Metafile, count: number): { name: string; bytes: number }[] {
  const sizes = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [path, { bytesInOutput }] of Object.entries(output.inputs)) {
      const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
      const name = match ? match[1]! : path.split('/').slice(0, 2).join('/');
      sizes.set(name, (sizes.get(name) ?? 0) + bytesInOutput);
    }
  }
  return [...sizes].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes).slice(0, count);
}

interface ColdStart {
  readonly importMs: number;
  readonly status?: number;
  readonly warmMs: readonly number[];
  readonly peakRssBytes: number;
}

/** Fresh processes one after another, so they do not compete for the CPU; asynchronous, so a stand-in can answer. */
async function coldStarts(count: number, nodeOptions: readonly string[], env: NodeJS.ProcessEnv, ...files: string[]): Promise<ColdStart[]> {
  const runs: ColdStart[] = [];
  for (let run = 0; run < count; run++) {
    const { stdout } = await promisify(execFile)(process.execPath, [...nodeOptions, COLD_START, ...files], { cwd: ROOT, env, timeout: 60_000 });
    // The handler's own logs and metrics go to stdout too.
    const line = stdout.split('\n').find((text) => text.startsWith('{"importMs"'));
    if (!line) throw new Error(`cold start printed no result:\n${stdout}`);
    runs.push(JSON.parse(line) as ColdStart);
  }
  return runs;
}

/**
 * Milliseconds of the in-process pipeline (JSON lines to /dev/null) for each body, after one untimed batch of other
 * events, as the handler's cold invocation warmed the bundle.
 */
async function pipelineTimes(mix: Mix, bodies: readonly Buffer[]): Promise<number[]> {
  const devNull = createWriteStream('/dev/null', { flags: 'a' });
  const pipeline = benchPipeline(devNull);
  const times: number[] = [];
  try {
    await pipeline.receive(postRequest(eventListBody(mix, 400, { firstId: 5_000_000 })));
    for (const body of bodies) {
      const started = performance.now();
      const result = await pipeline.receive(postRequest(body));
      if (result.status !== 200) throw new Error(`bundle bench: the pipeline answered ${result.status}`);
      times.push(performance.now() - started);
    }
  } finally {
    devNull.end();
  }
  return times;
}

/** p25 and p75, as the other benchmarks' spreads. */
const spread = (values: readonly number[]): [number, number] => {
  const sorted = [...values].sort((a, b) => a - b);
  return [quantile(sorted, 0.25), quantile(sorted, 0.75)];
};

export async function benchBundle(): Promise<BundleResults> {
  const variants: BundleRow[] = [];
  const files: string[] = [];
  for (const [index, variant] of VARIANTS.entries()) {
    const { file, metafile } = await bundle(variant, index);
    files.push(file);
    const bare = (await coldStarts(COLD_STARTS, variant.nodeOptions, HANDLER_ENV)).map((run) => run.importMs);
    const imports = (await coldStarts(COLD_STARTS, variant.nodeOptions, HANDLER_ENV, file)).map((run) => run.importMs);
    variants.push({
      variant: variant.name,
      bytes: codeBytes(metafile),
      importMedianMs: median(imports),
      importSpreadMs: spread(imports),
      bareMedianMs: median(bare),
      largest: largestPackages(metafile, 6),
    });
  }
  return { variants, ...(await invocations(files[0]!, VARIANTS[0]!.nodeOptions)) };
}

/** Batches per warm measurement, after one cold invocation. */
const WARM_BATCHES = 20;

/**
 * The deployed bundle imported only, then handling a default-sized batch and batches at Lambda's payload limit; then
 * one process per mix handling 400-event batches warm, against the bare pipeline on the same bodies.
 */
async function invocations(file: string, nodeOptions: readonly string[]): Promise<Pick<BundleResults, 'invocations' | 'warm'>> {
  const standIn = await startCloudWatchLogsStandIn();
  standIn.createLogGroup(HANDLER_ENV.LOG_GROUP_NAME!);
  const env = { ...HANDLER_ENV, AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: standIn.endpoint };
  const dir = mkdtempSync(join(tmpdir(), 'kar-bench-'));
  try {
    const batches: [string, { body: Buffer; events: number } | undefined][] = [
      ['import only', undefined],
      ['400 Metadata events', { body: eventListBody(Mix.Metadata, 400, { at: Date.now() }), events: 400 }],
      ['Metadata, ~6 MB', sixMegabyteBody(Mix.Metadata)],
      ['RequestResponse, ~6 MB', sixMegabyteBody(Mix.RequestResponse)],
    ];
    const rows: InvocationRow[] = [];
    for (const [index, [batch, input]] of batches.entries()) {
      const bodyFile = join(dir, `${index}.json`);
      if (input) writeFileSync(bodyFile, input.body);
      const runs = await coldStarts(INVOCATIONS, nodeOptions, env, file, ...(input ? [bodyFile] : []));
      // A refused batch measures nothing worth reporting.
      const refused = runs.find((run) => input && run.status !== 200);
      if (refused) throw new Error(`bundle bench: the handler answered ${refused.status} to "${batch}"`);
      rows.push({ batch, events: input?.events ?? 0, bodyBytes: input?.body.byteLength ?? 0, status: runs[0]!.status, peakRssBytes: median(runs.map((run) => run.peakRssBytes)) });
    }
    const warm: WarmRow[] = [];
    for (const mix of [Mix.Metadata, Mix.RequestResponse]) {
      // Distinct auditIDs per batch, so that no invocation is skipped as a retry; recent times for CloudWatch Logs.
      const events = Math.min(400, sixMegabyteBody(mix).events);
      const bodies = Array.from({ length: WARM_BATCHES + 1 }, (_, i) => eventListBody(mix, events, { at: Date.now(), firstId: 1_000_000 + i * 400 }));
      const bodyFiles = bodies.map((body, i) => {
        const bodyFile = join(dir, `warm-${mix}-${i}.json`);
        writeFileSync(bodyFile, body);
        return bodyFile;
      });
      const [run] = await coldStarts(1, nodeOptions, env, file, ...bodyFiles);
      if (run!.status !== 200) throw new Error(`bundle bench: the handler answered ${run!.status} to a warm ${mix} batch`);
      const pipelineMs = median(await pipelineTimes(mix, bodies.slice(1)));
      const handlerMs = median(run!.warmMs);
      warm.push({ mix, batches: WARM_BATCHES, events, handlerMs, handlerSpreadMs: spread(run!.warmMs), pipelineMs, handlerOverPipeline: ratio(handlerMs, pipelineMs) });
    }
    return { invocations: rows, warm };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await standIn.close();
  }
}
