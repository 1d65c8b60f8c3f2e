import { readFileSync } from 'node:fs';
import { ConfigError, RelayError } from '../errors.ts';
import { InputError, UsageError, type Command, type CommandIo } from './command.ts';
import { detectCommand } from './detect.ts';
import { flagsCommand } from './flags.ts';
import { kubeadmPatchCommand } from './kubeadm-patch.ts';
import { kubeconfigCommand } from './kubeconfig.ts';
import { policyCommand } from './policy.ts';
import { replayCommand } from './replay.ts';
import { serveCommand } from './serve.ts';

/** Every subcommand, in the order `--help` lists them. */
export const commands: readonly Command[] = [serveCommand, kubeconfigCommand, policyCommand, flagsCommand, kubeadmPatchCommand, replayCommand, detectCommand];

const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const overview = () =>
  [
    'usage: kube-audit-relay <command> [flags]',
    '',
    "Receives kube-apiserver's audit webhook and stores every event; generates what the API server needs to send them.",
    '',
    'commands:',
    ...commands.map((command) => `  ${command.name.padEnd(15)}${command.summary}`),
    '',
    'flags:',
    '  -h, --help     this text',
    '  -v, --version  print the version',
    '',
    "Run 'kube-audit-relay <command> --help' for a command's flags.",
  ].join('\n');

/** Runs one command line; returns the exit code: 0 done, 1 failed, 2 usage or configuration error. */
export async function runCli(argv: readonly string[], io: CommandIo): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    io.stdout.write(`${overview()}\n`);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    io.stdout.write(`${version}\n`);
    return 0;
  }
  const command = commands.find((candidate) => candidate.name === name);
  if (command === undefined) {
    io.stderr.write(`kube-audit-relay: unknown command '${name}'\n\n${overview()}\n`);
    return 2;
  }
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout.write(`${command.usage}\n`);
    return 0;
  }
  try {
    return await command.run(args, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`kube-audit-relay ${name}: ${error.message}\n\n${command.usage}\n`);
      return 2;
    }
    if (error instanceof ConfigError) {
      io.stderr.write(`kube-audit-relay ${name}: ${error.problems.length === 1 ? error.problems[0] : error.message}\n`);
      return 2;
    }
    if (error instanceof InputError) {
      io.stderr.write(`kube-audit-relay ${name}: ${error.message}\n`);
      return 2;
    }
    if (error instanceof RelayError || isSystemError(error)) {
      io.stderr.write(`kube-audit-relay ${name}: ${(error as Error).message}\n`);
      return 1;
    }
    throw error;
  }
}

/** An operating-system failure (a port in use, a file that vanished): the message says it all, a stack would not help. */
const isSystemError = (error: unknown): boolean => error instanceof Error && typeof (error as NodeJS.ErrnoException).syscall === 'string';

/** The process entry: real streams and environment, SIGINT/SIGTERM abort the running command. */
export async function main(): Promise<void> {
  const controller = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => controller.abort(new Error(`received ${signal}`)));
  }
  process.exitCode = await runCli(process.argv.slice(2), {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    signal: controller.signal,
  });
}
