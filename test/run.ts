// Node 20's test runner does not expand globs: collect every *.test.ts under test/ and hand them over.
import { readdirSync } from 'node:fs';
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
const stream = run({ files, concurrency: 2, timeout });
stream.on('test:fail', () => {
  process.exitCode = 1;
});
stream.compose(new spec()).pipe(process.stdout);
