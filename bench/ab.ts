// Before and after one change: `node --import tsx bench/ab.ts <git revision>` runs `serve` from that revision and
// from this checkout side by side (with the naive receiver for scale) in the serve benchmark's interleaved rounds,
// and prints this checkout's figures over the revision's, per round. The revision is exported with `git archive`
// into a scratch directory that shares this checkout's node_modules.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NAIVE_NODE, relayProgram } from './receivers.ts';
import { compareServe, type Spread } from './serve.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const revision = process.argv[2];
if (!revision) {
  process.stderr.write('usage: node --import tsx bench/ab.ts <git revision to compare this checkout with>\n');
  process.exit(2);
}
const commit = execFileSync('git', ['rev-parse', '--short', revision], { cwd: ROOT, encoding: 'utf8' }).trim();

const scratch = mkdtempSync(join(tmpdir(), 'kar-bench-ab-'));
try {
  const before = join(scratch, 'before');
  mkdirSync(before);
  execFileSync('sh', ['-c', `git archive ${commit} | tar -x -C "${before}"`], { cwd: ROOT });
  symlinkSync(join(ROOT, 'node_modules'), join(before, 'node_modules'));
  // bin/ starts the compiled build, which git does not hold: compile the revision as `npm run build` would.
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: before, stdio: 'inherit' });
  const output = join(scratch, 'output');
  mkdirSync(output);

  const beforeName = `relay ${commit}`;
  const afterName = 'relay, this checkout';
  const rows = await compareServe(
    [relayProgram(beforeName, 'relay-before', () => undefined, before), relayProgram(afterName, 'relay-after', () => undefined), NAIVE_NODE],
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
