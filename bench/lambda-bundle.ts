// Bundle size and cold-start import time of the Lambda handler with the AWS SDK bundled and with it left to the
// runtime (external), plus the handler's peak RSS for a 400-event fixture batch and for a batch near Lambda's 6 MB
// payload limit. The esbuild options are those of serverless.yml's custom.esbuild.
//   node --import tsx bench/lambda-bundle.ts
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateRawSync } from 'node:zlib';
import { build } from 'esbuild';
import { startCloudWatchLogsStandIn } from '../test/support/cloudwatch-logs-standin.ts';
import { eventList } from '../test/support/http-client.ts';
import { fixtureFiles } from '../test/support/records.ts';

const root = fileURLToPath(new URL('../', import.meta.url));
const child = fileURLToPath(new URL('./lambda-invoke.mjs', import.meta.url));
// Inside the repository (git-ignored), so the external variant resolves @aws-sdk/* from node_modules as it would
// from the runtime's own copy on Lambda.
const out = join(root, '.esbuild', 'bench');
mkdirSync(out, { recursive: true });
const COLD_STARTS = 15;

async function bundle(name: string, external: string[], sourcemap = false): Promise<string> {
  const outfile = join(out, name, 'receive.mjs');
  await build({
    entryPoints: [join(root, 'functions/aws/receive.ts')],
    outfile,
    bundle: true,
    minify: true,
    sourcemap,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
    external,
    logLevel: 'error',
  });
  return outfile;
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** One fresh process; asynchronous, because the CloudWatch stand-in it writes to runs in this process. */
async function coldStart(bundleFile: string, env: NodeJS.ProcessEnv, bodyFile?: string): Promise<{ importMs: number; status?: number; peakRssMb: number }> {
  const { stderr } = await promisify(execFile)(process.execPath, [child, bundleFile, ...(bodyFile ? [bodyFile] : [])], { cwd: root, env, timeout: 60_000 });
  const line = stderr.split('\n').find((text) => text.startsWith('{"importMs"'));
  if (!line) throw new Error(`cold start printed no result:\n${stderr}`);
  return JSON.parse(line);
}

/** `count` cold starts, one after another so they do not compete for the CPU. */
async function coldStarts(count: number, bundleFile: string, env: NodeJS.ProcessEnv, bodyFile?: string) {
  const runs = [];
  for (let index = 0; index < count; index++) runs.push(await coldStart(bundleFile, env, bodyFile));
  return runs;
}

const standIn = await startCloudWatchLogsStandIn();
const env: NodeJS.ProcessEnv = {
  PATH: process.env.PATH,
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'AKIDBENCH',
  AWS_SECRET_ACCESS_KEY: 'bench-secret',
  AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: standIn.endpoint,
  AWS_LAMBDA_FUNCTION_NAME: 'kube-audit-relay-bench-receive',
  LOG_GROUP_NAME: '/kube-audit-relay/bench/audit',
  AUTH_MODE: 'none',
  CLUSTER_NAME: 'bench',
  POWERTOOLS_METRICS_DISABLED: 'false',
};
standIn.createLogGroup(env.LOG_GROUP_NAME!);

const variants = {
  bundled: await bundle('bundled', []),
  external: await bundle('external', ['@aws-sdk/*']),
};
// As deployed: bundled, with the source map shipped and NODE_OPTIONS=--enable-source-maps (serverless.yml).
const withMap = await bundle('bundled-map', [], true);
const rows: [string, string, NodeJS.ProcessEnv][] = [
  ['bundled', variants.bundled, env],
  ['external', variants.external, env],
  ['bundled+map', withMap, { ...env, NODE_OPTIONS: '--enable-source-maps' }],
];
console.log('variant      bundle KiB  zipped KiB  import ms (median of %d cold starts)', COLD_STARTS);
for (const [name, file, variantEnv] of rows) {
  const files = name.endsWith('map') ? [file, `${file}.map`] : [file];
  const bytes = files.reduce((sum, path) => sum + statSync(path).size, 0);
  const zipped = files.reduce((sum, path) => sum + deflateRawSync(readFileSync(path), { level: 9 }).length, 0);
  const times = (await coldStarts(COLD_STARTS, file, variantEnv)).map((run) => run.importMs);
  console.log(`${name.padEnd(12)} ${(bytes / 1024).toFixed(0).padStart(10)}  ${(zipped / 1024).toFixed(0).padStart(10)}  ${median(times).toFixed(1).padStart(9)}`);
}

// The first 400 fixture events, and the same events repeated up to ~5.9 MB (Lambda refuses payloads over 6 MB).
const lines = fixtureFiles().flatMap((file) => file.lines);
const fixtureBatch = join(out, 'fixture-400.json');
writeFileSync(fixtureBatch, eventList(lines.slice(0, 400)));
const large: string[] = [];
for (let index = 0, size = 0; size < 5.9e6; index++) {
  const event = JSON.parse(lines[index % lines.length]!);
  event.auditID = `${event.auditID.slice(0, 24)}${String(index).padStart(12, '0')}`;
  const text = JSON.stringify(event);
  large.push(text);
  size += text.length + 1;
}
const largeBatch = join(out, 'large.json');
writeFileSync(largeBatch, eventList(large));

console.log('\nbatch                          events   MB   status  peak RSS MB (median of 5)');
for (const [name, file, count] of [['fixture, 400 events', fixtureBatch, 400], ['near the 6 MB payload limit', largeBatch, large.length]] as const) {
  const runs = await coldStarts(5, variants.bundled, env, file);
  const mb = statSync(file).size / 1e6;
  console.log(`${name.padEnd(30)} ${String(count).padStart(6)}  ${mb.toFixed(1).padStart(4)}  ${String(runs[0]!.status).padStart(6)}  ${median(runs.map((run) => run.peakRssMb)).toFixed(0).padStart(11)}`);
}
const baseline = await coldStarts(5, variants.bundled, env);
console.log(`${'(import only, no invocation)'.padEnd(30)} ${''.padStart(6)}  ${''.padStart(4)}  ${''.padStart(6)}  ${median(baseline.map((run) => run.peakRssMb)).toFixed(0).padStart(11)}`);
await standIn.close();
