// Runs one kube-audit-relay command line in this process through the real CLI entry, capturing its output.
import { PassThrough, Readable } from 'node:stream';
import { runCli } from '../../src/cli/main.ts';
import type { Env } from '../../src/config.ts';

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function runCommand(argv: readonly string[], options: { env?: Env; stdin?: string } = {}): Promise<CliResult> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
  const stdin = Readable.from(options.stdin === undefined ? [] : [Buffer.from(options.stdin)]);
  const code = await runCli(argv, { stdin, stdout, stderr, env: options.env ?? {}, signal: new AbortController().signal });
  return { code, stdout: out, stderr: err };
}
