// Runs `kube-audit-relay serve` in this process through the real CLI entry, with captured streams.
import { PassThrough } from 'node:stream';
import { runCli } from '../../src/cli/main.ts';
import type { Env } from '../../src/config.ts';
import { SERVE_LISTENING } from './listening.ts';

export interface ServeHandle {
  /** e.g. http://127.0.0.1:41234/ */
  readonly url: string;
  /** Everything written to stdout so far (the JSON-lines output when --output is -). */
  stdout(): string;
  /** Structured log entries written to stderr so far. */
  logs(): Record<string, unknown>[];
  /** Sends the stop signal and resolves with the exit code once the server has finished. */
  stop(): Promise<number>;
}

export async function startServe(args: readonly string[], env: Env = {}): Promise<ServeHandle> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  const controller = new AbortController();
  const exited = runCli(['serve', '--port', '0', ...args], { stdin: new PassThrough(), stdout, stderr, env, signal: controller.signal });
  const listening = new Promise<string>((resolve, reject) => {
    stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString('utf8');
      const match = SERVE_LISTENING.exec(err);
      if (match) resolve(match[1]!);
    });
    exited.then((code) => reject(new Error(`serve exited with ${code} before listening:\n${err}`)), reject);
  });
  const url = await listening;
  return {
    url,
    stdout: () => out,
    logs: () => logEntries(err),
    stop: async () => {
      controller.abort(new Error('test stopped the server'));
      return exited;
    },
  };
}

/** The structured log entries in serve's stderr text: its JSON lines. */
export const logEntries = (stderr: string): Record<string, unknown>[] =>
  stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);

/** Runs `kube-audit-relay serve` expecting it to refuse its settings; resolves with the exit code and stderr. */
export async function serveRefusal(args: readonly string[], env: Env = {}): Promise<{ code: number; stderr: string }> {
  const stderr = new PassThrough();
  let err = '';
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
  const controller = new AbortController();
  const run = runCli(['serve', '--port', '0', ...args], { stdin: new PassThrough(), stdout: new PassThrough(), stderr, env, signal: controller.signal });
  const timer = setTimeout(() => controller.abort(), 5_000);
  const code = await run;
  clearTimeout(timer);
  return { code, stderr: err };
}
