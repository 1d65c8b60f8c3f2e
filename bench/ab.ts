// Before and after one change: `node --import tsx bench/ab.ts <git revision> [--output]` runs `serve` from that
// revision and from this checkout side by side (with the naive receiver for scale) in the serve benchmark's
// interleaved rounds, and prints this checkout's figures over the revision's, per round; with `--output` both relays
// write to a regular file (`--output FILE`) instead of stdout. The revision is exported with `git archive` into a
// scratch directory that shares this checkout's node_modules and is compiled there (bin/ runs dist/); the checkout is
// compiled again too.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NAIVE_NODE, relayProgram } from './receivers.ts';
import { compareServe, type Spread } from './serve.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const [revision, mode] = process.argv.slice(2);
if (!revision || (mode !== undefined && mode !== '--output')) {
  process.stderr.write('usage: node --import tsx bench/ab.ts <git revision to compare this checkout with> [--output]\n');
  process.exit(2);
}
const commit = execFileSync('git', ['rev-parse', '--short', revision], { cwd: ROOT, encoding: 'utf8' }).trim();

const scratch = mkdtempSync(join(tmpdir(), 'kar-bench-ab-'));
try {
  const before = join(scratch, 'before');
  mkdirSync(before);
  execFileSync('sh', ['-c', `git archive ${commit} | tar -x -C "${before}"`], { cwd: ROOT });
  symlinkSync(join(ROOT, 'node_modules'), join(before, 'node_modules'));
  // bin/ starts the compiled build, which git does not hold: both sides are compiled as `npm run build` would, so
  // neither runs a dist/ older than its sources.
  const compile = (root: string): void => {
    execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit', timeout: 300_000 });
  };
  compile(before);
  compile(ROOT);
  const output = join(scratch, 'output');
  mkdirSync(output);

  const toFile = mode === '--output';
  const outputOf = (id: string) => (dir: string) => (toFile ? join(dir, `${id}.jsonl`) : undefined);
  const beforeName = `relay ${commit}${toFile ? ', --output file' : ''}`;
  const afterName = `relay, this checkout${toFile ? ', --output file' : ''}`;
  const rows = await compareServe(
    [relayProgram(beforeName, 'relay-before', outputOf('relay-before'), before), relayProgram(afterName, 'relay-after', outputOf('relay-after')), NAIVE_NODE],
    output,
  );
  const range = (spread: Spread, digits: number): string => `${spread.median.toFixed(digits)} (${spread.min.toFixed(digits)}–${spread.max.toFixed(digits)})`;
  const lines = ['| mix | program | wall s | CPU µs per event | wall vs naive | CPU vs naive | wall vs before | CPU vs before |', '|---|---|---|---|---|---|---|---|'];
  for (const row of rows) {
    const naive = row.versus[NAIVE_NODE.name];
    const versusBefore = row.versus[beforeName];
    lines.push(
      `| ${row.mix} | ${row.program} | ${range(row.wallSeconds, 2)} | ${range(row.cpuUsPerEvent, 1)} | ${naive ? range(naive.wall, 2) : '–'} | ${naive ? range(naive.cpu, 2) : '–'} | ${row.program === afterName && versusBefore ? `${range(versusBefore.wall, 2)} | ${range(versusBefore.cpu, 2)}` : '– | –'} |`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
