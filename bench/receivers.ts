// The programs the serve benchmark compares, each run as its own process with its output in a regular file, and
// what Linux says about such a process: CPU time, resident set, peak resident set.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const NAIVE = fileURLToPath(new URL('./receivers/naive.mjs', import.meta.url));
const GO_SOURCE = fileURLToPath(new URL('./receivers/go-receiver.go', import.meta.url));
/** Generous: tsx compiles the relay's sources at start-up, on a machine other processes keep busy. */
const START_TIMEOUT_MS = 30_000;

/** How to start one compared program; `dir` is a scratch directory for its output files. */
export interface ProgramSpec {
  readonly name: string;
  /** For file names. */
  readonly id: string;
  readonly command: string;
  readonly args: (dir: string) => string[];
  /** The file the program writes one line per event to: its stdout, or a file it was told to append to. */
  readonly linesFile: (dir: string) => string;
}

/**
 * The relay as shipped (`kube-audit-relay serve`, default settings: per-batch log line on, redaction on), from the
 * project at `root` (this checkout unless comparing two versions), with the node flags its image runs it with.
 */
export const relayProgram = (name: string, id: string, output: (dir: string) => string | undefined, root = ROOT): ProgramSpec => ({
  name,
  id,
  command: process.execPath,
  args: (dir) => [...imageNodeFlags(root), join(root, 'bin/kube-audit-relay.js'), 'serve', '--host', '127.0.0.1', '--port', '0', ...(output(dir) ? ['--output', output(dir)!] : [])],
  linesFile: (dir) => output(dir) ?? join(dir, `${id}.stdout`),
});

/** The flags between `node` and the bin in the exec-form ENTRYPOINT of the Dockerfile at `root`. */
function imageNodeFlags(root: string): string[] {
  const entrypoint = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(readFileSync(join(root, 'Dockerfile'), 'utf8'))?.[1];
  return entrypoint ? (JSON.parse(entrypoint) as string[]).slice(1).filter((arg) => arg.startsWith('--')) : [];
}

export const RELAY_STDOUT = relayProgram('relay, stdout', 'relay-stdout', () => undefined);
export const RELAY_FILE = relayProgram('relay, --output file', 'relay-file', (dir) => join(dir, 'relay-file.jsonl'));
export const NAIVE_NODE: ProgramSpec = {
  name: 'naive node',
  id: 'naive',
  command: process.execPath,
  args: () => [NAIVE],
  linesFile: (dir) => join(dir, 'naive.stdout'),
};

/**
 * The Go receiver built from its source into `dir`, or the reason it cannot be: the benchmark then runs without it
 * and says why.
 */
export function goReceiver(dir: string): ProgramSpec | { skipped: string } {
  const binary = join(dir, 'go-receiver');
  try {
    execFileSync('go', ['build', '-o', binary, GO_SOURCE], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 300_000, env: { ...process.env, GO111MODULE: 'off' } });
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? '`go` is not installed (apt-get install golang-go)' : `go build failed: ${String((error as { stderr?: Buffer }).stderr ?? error).trim()}`;
    return { skipped: reason };
  }
  return { name: 'Go stdlib', id: 'go', command: binary, args: () => [], linesFile: (d) => join(d, 'go.stdout') };
}

/** A started program. */
export interface Receiver {
  readonly spec: ProgramSpec;
  readonly pid: number;
  readonly url: string;
  readonly linesFile: string;
  /** Newline bytes in linesFile since the last `resetLines`, read from where the last count stopped. */
  countLines(): number;
  /** Empties linesFile so that a long run does not fill the disk. */
  resetLines(): void;
  /** Ends the process (SIGTERM, then SIGKILL after 10 s). */
  stop(): Promise<void>;
}

/** Starts a program with its stdout and stderr in files under `dir` and waits for the URL it listens on. */
export async function startReceiver(spec: ProgramSpec, dir: string): Promise<Receiver> {
  const stdoutFile = join(dir, `${spec.id}.stdout`);
  const stderrFile = join(dir, `${spec.id}.stderr`);
  // Empty, as a program started earlier in `dir` may have left them; then opened in append mode, so that emptying
  // them from here leaves the program writing at their new end.
  for (const file of [stdoutFile, stderrFile, spec.linesFile(dir)]) writeFileSync(file, '');
  const stdout = openSync(stdoutFile, 'a');
  const stderr = openSync(stderrFile, 'a');
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/' };
  const child: ChildProcess = spawn(spec.command, spec.args(dir), { cwd: ROOT, env, stdio: ['ignore', stdout, stderr] });
  closeSync(stdout);
  closeSync(stderr);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const killed = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(killed);
  };
  try {
    const url = await listeningUrl(stderrFile, child);
    const linesFile = spec.linesFile(dir);
    let offset = 0;
    let lines = 0;
    return {
      spec,
      pid: child.pid!,
      url,
      linesFile,
      countLines() {
        ({ offset, lines } = countNewlines(linesFile, offset, lines));
        return lines;
      },
      resetLines() {
        writeFileSync(linesFile, '');
        offset = 0;
        lines = 0;
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function listeningUrl(stderrFile: string, child: ChildProcess): Promise<string> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const match = /http:\/\/127\.0\.0\.1:\d+\//.exec(readFileSync(stderrFile, 'utf8'));
    if (match) return match[0];
    if (child.exitCode !== null) throw new Error(`${stderrFile}: the program exited with ${child.exitCode} before listening`);
    await sleep(20);
  }
  throw new Error(`${stderrFile}: no "listening" line within ${START_TIMEOUT_MS} ms`);
}

function countNewlines(file: string, from: number, counted: number): { offset: number; lines: number } {
  const size = statSync(file).size;
  if (size <= from) return { offset: from, lines: counted };
  const fd = openSync(file, 'r');
  const chunk = Buffer.allocUnsafe(4 * 2 ** 20);
  let offset = from;
  let lines = counted;
  try {
    while (offset < size) {
      const read = readSync(fd, chunk, 0, Math.min(chunk.length, size - offset), offset);
      if (read === 0) break;
      for (let i = chunk.indexOf(0x0a, 0); i >= 0 && i < read; i = chunk.indexOf(0x0a, i + 1)) lines++;
      offset += read;
    }
  } finally {
    closeSync(fd);
  }
  return { offset, lines };
}

/** Waits until the program has written `expected` lines (the naive receiver answers before it writes). */
export async function waitForLines(receiver: Receiver, expected: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (receiver.countLines() < expected) {
    if (Date.now() > deadline) throw new Error(`${receiver.spec.name} wrote ${receiver.countLines()} of ${expected} lines within ${timeoutMs} ms`);
    await sleep(10);
  }
  if (receiver.countLines() > expected) throw new Error(`${receiver.spec.name} wrote ${receiver.countLines()} lines, expected ${expected}`);
}

const CLOCK_TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** User plus system CPU time the process has used so far, in ms (from /proc/PID/stat, to the clock tick). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces: utime and stime are fields 14, 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
}

/** A size field of /proc/PID/status in bytes: VmRSS (resident now) or VmHWM (peak since start or `resetPeak`). */
export function statusBytes(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`/proc/${pid}/status has no ${field}`);
  return Number(match[1]) * 1024;
}

/** Resets the process's peak resident set (VmHWM) to its current one. */
export const resetPeak = (pid: number): void => writeFileSync(`/proc/${pid}/clear_refs`, '5');
