// Processes a test starts: each is killed when its test ends, however it ends (passed, failed or timed out), so no
// test leaves one running. node:test runs t.after hooks after a timeout too, where a `finally` would never run.
import { type ChildProcessWithoutNullStreams, spawn, type SpawnOptionsWithoutStdio } from 'node:child_process';
import { once } from 'node:events';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { listeningLine, SERVE_LISTENING } from './listening.ts';

/** Node arguments that run the CLI from its sources through tsx: `[...CLI_FROM_SOURCE, 'serve', ...]`. */
export const CLI_FROM_SOURCE = ['--import', 'tsx', fileURLToPath(new URL('./cli-from-source.ts', import.meta.url))];

/** A spawned process with its output so far. */
export interface TestProcess {
  readonly child: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  /** SIGTERM, then the exit code (null when ended by a signal). */
  stop(): Promise<number | null>;
}

/** Spawns `command`, killed with SIGKILL when the test `t` ends if it is still running. */
export function spawnForTest(t: TestContext, command: string, args: readonly string[], options: SpawnOptionsWithoutStdio = {}): TestProcess {
  const child = spawn(command, args, { ...options, stdio: 'pipe' });
  child.stdin.end();
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const [code] = await exited;
      return code;
    },
  };
}

/**
 * The URL `kube-audit-relay serve` logs once it listens. Rejects if the process exits first or does not listen within
 * `timeoutMs` (generous: a loaded 2-core machine starts a process in well under a second).
 */
export const listeningUrl = (running: TestProcess, timeoutMs = 15_000): Promise<string> =>
  listeningLine(running.child, running.stderr, SERVE_LISTENING, { name: 'serve', timeoutMs });
