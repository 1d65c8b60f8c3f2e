// `kube-audit-relay serve` as its own process, through the installed bin, for tests that measure its memory or its
// event loop from outside: in-process servers share both with the test.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../bin/kube-audit-relay.js', import.meta.url));

export interface ServeProcess {
  /** e.g. http://127.0.0.1:41234/ */
  readonly url: string;
  readonly pid: number;
  /** Structured log entries written to stderr so far. */
  logs(): Record<string, unknown>[];
  /** A field of /proc/PID/status in bytes: `VmRSS` now, `VmHWM` the peak since the process started. */
  memory(field: 'VmRSS' | 'VmHWM'): number;
  /** SIGTERM, then SIGKILL after 10 s; resolves once the process is gone. Safe to call twice. */
  stop(): Promise<void>;
}

export async function startServeProcess(args: readonly string[], env: Readonly<Record<string, string>> = {}): Promise<ServeProcess> {
  const child: ChildProcess = spawn(process.execPath, [bin, 'serve', '--port', '0', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { PATH: process.env.PATH, ...env },
  });
  const exited = once(child, 'exit');
  let stderr = '';
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr!.on('data', (chunk: Buffer) => {
        stderr += chunk.toString('utf8');
        const match = /"msg":"listening","url":"([^"]+)"/.exec(stderr);
        if (match) resolve(match[1]!);
      });
      exited.then(([code]) => reject(new Error(`serve exited with ${code} before listening:\n${stderr}`)), reject);
      setTimeout(() => reject(new Error(`serve did not listen within 30 s:\n${stderr}`)), 30_000).unref();
    });
    return {
      url,
      pid: child.pid!,
      logs: () =>
        stderr
          .split('\n')
          .filter((line) => line.startsWith('{'))
          .map((line) => JSON.parse(line) as Record<string, unknown>),
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
