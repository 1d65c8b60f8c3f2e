// Node 20's test runner does not expand globs: collect every *.test.ts under test/ and hand them over.
import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { run } from 'node:test';
import { spec } from 'node:test/reporters';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));
const only = process.argv.slice(2);

function collect(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return collect(path);
    return entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

const files = collect(root)
  .filter((file) => only.length === 0 || only.some((part) => relative(root, file).includes(part)))
  .sort();
if (files.length === 0) {
  console.error(`no test files match ${only.join(' ')}`);
  process.exit(2);
}

// Per test file, as a last resort: tests that start processes or servers set their own, shorter timeouts. A file of
// several `serverless package` runs takes over 3 minutes when the shared machine is busy, so this stays at 5;
// `npm run test:hostile` (100,000 events) raises it with KAR_TEST_FILE_TIMEOUT_MS.
const timeout = Number(process.env.KAR_TEST_FILE_TIMEOUT_MS ?? 5 * 60_000);
// Every test's temporary files (keys, tokens, replay logs of tens of MB) under one folder of this run, removed when the
// run ends: tests that start processes leave their folders to the run rather than each to an after() of its own.
// 0755 so the container test's unprivileged uid can reach the folders it is given below it (each is 0700 or chmodded).
const runTmp = mkdtempSync(join(tmpdir(), 'kar-test-run-'));
chmodSync(runTmp, 0o755);
process.env.TMPDIR = runTmp;
const removeRunTmp = () => rmSync(runTmp, { recursive: true, force: true });
process.on('exit', removeRunTmp);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    removeRunTmp();
    process.exit(130);
  });
}

const stream = run({ files, concurrency: 2, timeout });
stream.on('test:fail', () => {
  process.exitCode = 1;
});
stream.compose(new spec()).pipe(process.stdout);
