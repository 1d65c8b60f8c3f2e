// The Lambda handler bundled with serverless.yml's own custom.esbuild settings (read from it, so a change there is what
// the benchmark measures and the test checks), and what of it every cold start loads. Shared by the bundle benchmark
// and the test that keeps the cold start's code small.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { parse } from 'yaml';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const ENTRY = 'functions/aws/receive.ts';

export interface LambdaBundleOptions {
  readonly outdir: string;
  /** Packages left to the runtime, e.g. `@aws-sdk/*`; serverless.yml bundles everything (`exclude: []`). */
  readonly external?: readonly string[];
  readonly sourcemap: boolean;
}

/** serverless.yml's custom.esbuild as esbuild's options; serverless-esbuild's own keys become esbuild's or are left out. */
function serverlessEsbuildOptions(): BuildOptions {
  // Only custom.esbuild is read: the resources' CloudFormation tags (!Sub) would each print an unresolved-tag warning.
  const serverless = parse(readFileSync(join(ROOT, 'serverless.yml'), 'utf8'), { logLevel: 'error' }) as { custom: { esbuild: Record<string, unknown> } };
  const { exclude: _exclude, outputWorkFolder: _outputWorkFolder, outputFileExtension, ...options } = serverless.custom.esbuild;
  return { ...options, outExtension: { '.js': String(outputFileExtension ?? '.js') } };
}

/** Builds the handler into `outdir` and returns esbuild's metafile (the entry's file: {@link entryOutput}). */
export async function buildLambdaBundle(options: LambdaBundleOptions): Promise<Metafile> {
  const { metafile } = await build({
    ...serverlessEsbuildOptions(),
    entryPoints: [join(ROOT, ENTRY)],
    outdir: options.outdir,
    external: [...(options.external ?? [])],
    sourcemap: options.sourcemap,
    metafile: true,
    logLevel: 'error',
  });
  return metafile;
}

/** The handler's own file, as esbuild names it (relative to the working directory): its name follows serverless.yml. */
export function entryOutput(metafile: Metafile): string {
  const entry = Object.keys(metafile.outputs).find((path) => metafile.outputs[path]!.entryPoint?.endsWith(ENTRY));
  if (!entry) throw new Error(`the metafile names no output for ${ENTRY}`);
  return entry;
}

/** The entry and every chunk reachable from it through static imports: what every cold start loads. */
export function staticOutputs(metafile: Metafile): Metafile['outputs'][string][] {
  const outputs = metafile.outputs;
  const reached = new Set<string>();
  const pending = [entryOutput(metafile)];
  for (let path = pending.pop(); path !== undefined; path = pending.pop()) {
    if (reached.has(path)) continue;
    reached.add(path);
    for (const { path: imported, kind } of outputs[path]!.imports) if (kind === 'import-statement' && outputs[imported]) pending.push(imported);
  }
  return [...reached].map((path) => outputs[path]!);
}
