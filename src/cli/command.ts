import type { Readable, Writable } from 'node:stream';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Env } from '../config.ts';
import { RelayError } from '../errors.ts';
import { whyUnreadable } from '../file-errors.ts';

/** A command line that cannot be run as written; the CLI prints the message and the usage and exits 2. */
export class UsageError extends RelayError {
  override readonly name = 'UsageError';
}

/**
 * A file or value named on the command line that cannot be used (missing, unreadable, wrong content). The command
 * line itself was fine, so the CLI prints only the message, on one line, and exits 2.
 */
export class InputError extends RelayError {
  override readonly name = 'InputError';
}

/** Why a file named by `--flag` cannot be read, in words: `--ca-file ca.crt does not exist`. */
export function unreadable(flag: string, path: string, error: unknown): InputError {
  return new InputError(`${flag} ${path} ${whyUnreadable(error)}`, { cause: error });
}

/** What a command may touch, so tests run commands in-process with their own streams and environment. */
export interface CommandIo {
  readonly stdin: Readable;
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly env: Env;
  /** Aborted on SIGINT/SIGTERM: long-running commands stop cleanly when it fires. */
  readonly signal: AbortSignal;
}

/** One subcommand of `kube-audit-relay`. */
export interface Command {
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** Full help text, printed by `--help` and after a usage error. */
  readonly usage: string;
  /** Returns the exit code. Throws UsageError for a bad command line, ConfigError for bad settings. */
  run(args: readonly string[], io: CommandIo): Promise<number>;
}

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * node:util parseArgs with the CLI's conventions: unknown flags and missing values become UsageError, and
 * `help` is true when `-h`/`--help` was given (the command then prints its usage and exits 0).
 */
export function parseCommandLine<const O extends Options>(
  args: readonly string[],
  options: O,
  { positionals = false }: { positionals?: boolean } = {},
) {
  const withHelp = { ...options, help: { type: 'boolean', short: 'h' } } as const;
  try {
    return parseArgs({ args: [...args], options: withHelp, allowPositionals: positionals, strict: true });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message.replace(/\. To specify .*$/s, '') : String(error));
  }
}

/** Parses a flag value as a whole number within bounds, naming the flag when it is not. */
export function integerFlag(flag: string, value: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!/^\d+$/.test(value.trim()) || number < min || number > max) {
    throw new UsageError(`--${flag} must be a whole number from ${min} to ${max}, got '${value}'`);
  }
  return number;
}
