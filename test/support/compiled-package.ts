// The package as `npm run build` leaves it, laid out in a fresh directory: bin/, dist/ (compiled by tsc with the
// project's tsconfig.build.json), package.json and the project's node_modules. No TypeScript file is in it, so a
// process started from it proves that nothing needs a TypeScript loader at run time.
import { execFile } from 'node:child_process';
import { chmodSync, cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));

export interface CompiledPackage {
  /** The package directory (readable by every user, as an image's /app is). */
  readonly dir: string;
  /** Its bin/kube-audit-relay.js. */
  readonly bin: string;
  remove(): void;
}

/** Compiles the sources into a new package directory. tsc takes 5-45 s here, depending on the machine's load. */
export async function buildCompiledPackage(): Promise<CompiledPackage> {
  const dir = mkdtempSync(join(tmpdir(), 'kar-compiled-'));
  chmodSync(dir, 0o755);
  await run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json'), '--outDir', join(dir, 'dist')], {
    timeout: 150_000,
  });
  cpSync(join(root, 'bin'), join(dir, 'bin'), { recursive: true });
  cpSync(join(root, 'package.json'), join(dir, 'package.json'));
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  return { dir, bin: join(dir, 'bin/kube-audit-relay.js'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}
