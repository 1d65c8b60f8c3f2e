// Benchmark 4: the Lambda handler bundle, built with esbuild as serverless.yml's custom.esbuild does (bundle, minify,
// node22, ESM with a require shim), with the AWS SDK bundled and with it left to the nodejs22.x runtime: size,
// what is big (from the metafile), and cold import time in fresh processes against a bare process.
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

export interface BundleRow {
  /** `sdk-bundled` (serverless.yml's `exclude: []`) or `sdk-external` (the runtime's AWS SDK v3). */
  readonly variant: string;
  readonly bytes: number;
  readonly importMedianMs: number;
  readonly importSpreadMs: readonly [number, number];
  /** Import time of nothing in the same kind of fresh process. */
  readonly bareMedianMs: number;
  /** Largest packages in the output, bytes. */
  readonly largest: readonly { readonly name: string; readonly bytes: number }[];
}

async function bundle(variant: string, external: string[]): Promise<{ file: string; metafile: Metafile }> {
  const file = join(OUT_DIR, variant, 'receive.mjs');
  mkdirSync(join(OUT_DIR, variant), { recursive: true });
  const { metafile } = await build({
    entryPoints: [join(ROOT, 'functions/aws/receive.ts')],
    outfile: file,
    bundle: true,
    minify: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
    external,
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

function coldImports(file?: string): number[] {
  return Array.from({ length: COLD_STARTS }, () => {
    const output = execFileSync(process.execPath, [COLD_IMPORT, ...(file ? [file] : [])], {
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
  for (const [variant, external] of [
    ['sdk-bundled', []],
    ['sdk-external', ['@aws-sdk/*']],
  ] as const) {
    const { file, metafile } = await bundle(variant, [...external]);
    const bare = coldImports();
    const imports = coldImports(file);
    rows.push({
      variant,
      bytes: statSync(file).size,
      importMedianMs: median(imports),
      importSpreadMs: spread(imports),
      bareMedianMs: median(bare),
      largest: largestPackages(metafile, 6),
    });
  }
  return rows;
}
