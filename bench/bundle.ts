// Benchmark 4: the Lambda handler bundle, built with esbuild as serverless.yml's custom.esbuild does (bundle, minify,
// node22, ESM with a require shim, source map, NODE_OPTIONS=--enable-source-maps), then without source maps, then
// with the AWS SDK left to the nodejs22.x runtime: size, what is big (from the metafile), and cold import time in
// fresh processes against a bare process.
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { median } from './harness.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const COLD_IMPORT = fileURLToPath(new URL('./cold-import.mjs', import.meta.url));
/** Git-ignored and inside the project, so an external @aws-sdk resolves from node_modules as it would from the runtime. */
const OUT_DIR = join(ROOT, '.esbuild', 'bench');
const COLD_STARTS = 20;
/** What the handler reads at import and first use; the import itself must not fail or reach AWS. */
const HANDLER_ENV = {
  AWS_REGION: 'eu-west-1',
  LOG_GROUP_NAME: '/kube-audit-relay/bench/audit',
  AUTH_MODE: 'none',
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

export interface BundleRow {
  readonly variant: string;
  readonly bytes: number;
  readonly importMedianMs: number;
  readonly importSpreadMs: readonly [number, number];
  /** Import time of nothing in the same kind of fresh process. */
  readonly bareMedianMs: number;
  /** Largest packages in the output, bytes. */
  readonly largest: readonly { readonly name: string; readonly bytes: number }[];
}

async function bundle(variant: Variant, index: number): Promise<{ file: string; metafile: Metafile }> {
  const dir = join(OUT_DIR, String(index));
  const file = join(dir, 'receive.mjs');
  mkdirSync(dir, { recursive: true });
  const { metafile } = await build({
    entryPoints: [join(ROOT, 'functions/aws/receive.ts')],
    outfile: file,
    bundle: true,
    minify: true,
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

function coldImports(nodeOptions: readonly string[], file?: string): number[] {
  return Array.from({ length: COLD_STARTS }, () => {
    const output = execFileSync(process.execPath, [...nodeOptions, COLD_IMPORT, ...(file ? [file] : [])], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, ...HANDLER_ENV },
      encoding: 'utf8',
    });
    return Number(output.trim());
  });
}

const spread = (values: number[]): [number, number] => {
  const sorted = [...values].sort((a, b) => a - b);
  return [sorted[Math.floor(sorted.length / 4)]!, sorted[Math.floor((sorted.length * 3) / 4)]!];
};

export async function benchBundle(): Promise<BundleRow[]> {
  const rows: BundleRow[] = [];
  for (const [index, variant] of VARIANTS.entries()) {
    const { file, metafile } = await bundle(variant, index);
    const bare = coldImports(variant.nodeOptions);
    const imports = coldImports(variant.nodeOptions, file);
    rows.push({
      variant: variant.name,
      bytes: statSync(file).size,
      importMedianMs: median(imports),
      importSpreadMs: spread(imports),
      bareMedianMs: median(bare),
      largest: largestPackages(metafile, 6),
    });
  }
  return rows;
}
