// `npm run wasm`: assembles src/audit/simd-object-scan.wat with wabt (the WebAssembly Binary Toolkit's own assembler,
// a dev dependency) into the TypeScript module the scanner loads, so that neither the build, the Lambda bundle nor the
// Azure bundle needs a loader for .wasm files. test/unit/simd-object-scan.test.ts checks the module matches the source.
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import wabt from 'wabt';

export const WAT_PATH = fileURLToPath(new URL('../src/audit/simd-object-scan.wat', import.meta.url));
export const MODULE_PATH = fileURLToPath(new URL('../src/audit/simd-object-scan-wasm.ts', import.meta.url));

/** The TypeScript module holding the assembled .wat, as `npm run wasm` writes it. */
export async function assembledModule(): Promise<string> {
  const toolkit = await wabt();
  const module = toolkit.parseWat(WAT_PATH, readFileSync(WAT_PATH, 'utf8'), { simd: true });
  try {
    module.validate();
    const { buffer } = module.toBinary({});
    return [
      '// Assembled from simd-object-scan.wat by `npm run wasm` (tools/assemble-wasm.ts): edit the .wat, then run it.',
      '',
      '/** The WebAssembly module of simd-object-scan.wat, base64. */',
      `export const SIMD_OBJECT_SCAN_WASM = '${Buffer.from(buffer).toString('base64')}';`,
      '',
    ].join('\n');
  } finally {
    module.destroy();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  writeFileSync(MODULE_PATH, await assembledModule());
  process.stdout.write(`wrote ${MODULE_PATH}\n`);
}
