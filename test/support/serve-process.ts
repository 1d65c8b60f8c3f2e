// `kube-audit-relay serve` as a separate process through the installed bin, with its stdout a real pipe (a FIFO), as
// container runtimes and systemd give it: child_process's own 'pipe' is a socket pair, which behaves differently
// (/dev/stdout cannot be opened on a socket). Also for tests that measure its memory or its event loop from outside:
// an in-process server shares both with the test.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, constants, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';
import { listeningLine, SERVE_LISTENING } from './listening.ts';
import { logEntries } from './serve.ts';

// A test that times out never reaches its `finally`; the file's own after hook still runs and stops what is left.
const running = new Set<() => Promise<number | null>>();
after(() => Promise.all([...running].map((stop) => stop())));

const bin = fileURLToPath(new URL('../../bin/kube-audit-relay.js', import.meta.url));

export interface ServeProcess {
  readonly child: ChildProcess;
  readonly url: string;
  readonly pid: number;
  /** The read end of the child's stdout pipe; destroying it makes the child's next write fail with EPIPE. */
  readonly stdoutReader: Socket;
  /** Bytes read from the child's stdout pipe so far. */
  stdout(): string;
  /** JSON log lines from stderr so far. */
  logs(): Record<string, unknown>[];
  /** A field of /proc/PID/status in bytes: `VmRSS` now, `VmHWM` the peak since the process started. */
  memory(field: 'VmRSS' | 'VmHWM'): number;
  /** SIGTERM, then SIGKILL after 10 s; resolves with the exit code (null when killed). Safe to call twice. */
  stop(): Promise<number | null>;
}

/** Starts serve on a free port of 127.0.0.1 and resolves once it listens (rejects if it exits or takes over 30 s). */
export async function spawnServe(args: readonly string[], env: Readonly<Record<string, string>> = {}): Promise<ServeProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'relay-stdout-'));
  const fifo = join(dir, 'stdout');
  execFileSync('mkfifo', [fifo]);
  // The read end first, non-blocking, so opening the write end does not wait.
  const stdoutReader = new Socket({ fd: openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK), readable: true, writable: false });
  const writeEnd = openSync(fifo, 'w');
  const child = spawn(process.execPath, [bin, 'serve', '--port', '0', ...args], { stdio: ['pipe', writeEnd, 'pipe'], env: { PATH: process.env.PATH, ...env } });
  closeSync(writeEnd);
  let out = '';
  let err = '';
  stdoutReader.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  stdoutReader.on('error', () => {});
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  const stop = async (): Promise<number | null> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited.finally(() => clearTimeout(timer));
    }
    stdoutReader.destroy();
    rmSync(dir, { recursive: true, force: true });
    running.delete(stop);
    return exited;
  };
  running.add(stop);
  try {
    const url = await listeningLine(child, () => err, SERVE_LISTENING, { name: 'serve', timeoutMs: 30_000 });
    return {
      child,
      url,
      pid: child.pid!,
      stdoutReader,
      stdout: () => out,
      logs: () => logEntries(err),
      memory(field) {
        const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (!match) throw new Error(`no ${field} in /proc/${child.pid}/status`);
        return Number(match[1]) * 1024;
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
