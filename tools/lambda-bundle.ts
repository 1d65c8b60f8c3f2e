// The Lambda handler bundled as serverless.yml's custom.esbuild bundles it (minified, node22, ES module builds first,
// ESM split into chunks with a require shim, source maps without sources), and what of it every cold start loads.
// Shared by the bundle benchmark and the test that keeps the cold start's code small.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
export const LAMBDA_ENTRY = join(ROOT, 'functions/aws/receive.ts');

export interface LambdaBundleOptions {
  readonly outdir: string;
  /** Packages left to the runtime, e.g. `@aws-sdk/*`; serverless.yml bundles everything (`exclude: []`). */
  readonly external?: readonly string[];
  readonly sourcemap: boolean;
}

/** Builds the handler into `outdir` (its entry is `receive.mjs`) and returns esbuild's metafile. */
export async function buildLambdaBundle(options: LambdaBundleOptions): Promise<Metafile> {
  const { metafile } = await build({
    entryPoints: [LAMBDA_ENTRY],
    outdir: options.outdir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    minify: true,
    splitting: true,
    mainFields: ['module', 'main'],
    platform: 'node',
    target: 'node22',
    format: 'esm',
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
    external: [...(options.external ?? [])],
    sourcemap: options.sourcemap,
    sourcesContent: false,
    metafile: true,
    logLevel: 'error',
  });
  return metafile;
}

/** The entry and every chunk reachable from it through static imports: what every cold start loads. */
export function staticOutputs(metafile: Metafile): Metafile['outputs'][string][] {
  const outputs = metafile.outputs;
  const entry = Object.keys(outputs).find((path) => outputs[path]!.entryPoint?.endsWith('functions/aws/receive.ts'));
  if (!entry) throw new Error('the metafile names no output for functions/aws/receive.ts');
  const reached = new Set<string>();
  const pending = [entry];
  for (let path = pending.pop(); path !== undefined; path = pending.pop()) {
    if (reached.has(path)) continue;
    reached.add(path);
    for (const { path: imported, kind } of outputs[path]!.imports) if (kind === 'import-statement' && outputs[imported]) pending.push(imported);
  }
  return [...reached].map((path) => outputs[path]!);
}
