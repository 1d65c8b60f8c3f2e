// `kube-audit-relay serve` as a separate process through the installed bin, with its stdout a real pipe (a FIFO), as
// container runtimes and systemd give it: child_process's own 'pipe' is a socket pair, which behaves differently
// (/dev/stdout cannot be opened on a socket).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, constants, mkdtempSync, openSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { logEntries } from './serve.ts';

const bin = fileURLToPath(new URL('../../bin/kube-audit-relay.js', import.meta.url));

export interface ServeProcess {
  readonly child: ChildProcess;
  readonly url: string;
  /** The read end of the child's stdout pipe; destroying it makes the child's next write fail with EPIPE. */
  readonly stdoutReader: Socket;
  /** Bytes read from the child's stdout pipe so far. */
  stdout(): string;
  /** JSON log lines from stderr so far. */
  logs(): Record<string, unknown>[];
  /** SIGTERM, then SIGKILL after 10 s; resolves with the exit code (null when killed). Safe to call twice. */
  stop(): Promise<number | null>;
}

/** Starts serve on a free port of 127.0.0.1 and resolves once it listens (rejects if it exits or takes over 30 s). */
export async function spawnServe(args: readonly string[]): Promise<ServeProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'relay-stdout-'));
  const fifo = join(dir, 'stdout');
  execFileSync('mkfifo', [fifo]);
  // The read end first, non-blocking, so opening the write end does not wait.
  const stdoutReader = new Socket({ fd: openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK), readable: true, writable: false });
  const writeEnd = openSync(fifo, 'w');
  const child = spawn(process.execPath, [bin, 'serve', '--port', '0', ...args], { stdio: ['pipe', writeEnd, 'pipe'], env: { PATH: process.env.PATH } });
  closeSync(writeEnd);
  let out = '';
  let err = '';
  stdoutReader.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  stdoutReader.on('error', () => {});
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  const stop = async (): Promise<number | null> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited.finally(() => clearTimeout(timer));
    }
    stdoutReader.destroy();
    rmSync(dir, { recursive: true, force: true });
    return exited;
  };
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`serve did not listen within 30 s:\n${err}`)), 30_000);
      child.stderr!.on('data', (chunk: Buffer) => {
        err += chunk.toString('utf8');
        const match = /"msg":"listening","url":"([^"]+)"/.exec(err);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`serve exited with ${code} before listening:\n${err}`));
      });
    });
    return {
      child,
      url,
      stdoutReader,
      stdout: () => out,
      logs: () => logEntries(err),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
