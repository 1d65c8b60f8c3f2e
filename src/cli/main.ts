import { ConfigError, RelayError } from '../errors.ts';
import { InputError, UsageError, type Command, type CommandIo } from './command.ts';
import { VERSION } from './version.ts';

/**
 * Every subcommand, in the order `--help` lists them. A command's module is loaded only when it runs: loading all of
 * them made `serve` start 15 MB heavier and later.
 */
const commands: readonly { readonly name: string; load(): Promise<Command> }[] = [
  { name: 'serve', load: async () => (await import('./serve.ts')).serveCommand },
  { name: 'kubeconfig', load: async () => (await import('./kubeconfig.ts')).kubeconfigCommand },
  { name: 'policy', load: async () => (await import('./policy.ts')).policyCommand },
  { name: 'flags', load: async () => (await import('./flags.ts')).flagsCommand },
  { name: 'kubeadm-patch', load: async () => (await import('./kubeadm-patch.ts')).kubeadmPatchCommand },
  { name: 'doctor', load: async () => (await import('./doctor.ts')).doctorCommand },
  { name: 'replay', load: async () => (await import('./replay.ts')).replayCommand },
  { name: 'detect', load: async () => (await import('./detect.ts')).detectCommand },
  { name: 'cost', load: async () => (await import('./cost.ts')).costCommand },
];

const overview = async () => {
  const loaded = await Promise.all(commands.map((command) => command.load()));
  return [
    'usage: kube-audit-relay <command> [flags]',
    '',
    "Receives kube-apiserver's audit webhook and stores every event; generates what the API server needs to send them.",
    '',
    'commands:',
    ...loaded.map((command) => `  ${command.name.padEnd(15)}${command.summary}`),
    '',
    'flags:',
    '  -h, --help     this text',
    '  -v, --version  print the version',
    '',
    "Run 'kube-audit-relay <command> --help' for a command's flags.",
  ].join('\n');
};

/** Runs one command line; returns the exit code: 0 done, 1 failed, 2 usage or configuration error. */
export async function runCli(argv: readonly string[], io: CommandIo): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    io.stdout.write(`${await overview()}\n`);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    io.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const command = await commands.find((candidate) => candidate.name === name)?.load();
  if (command === undefined) {
    io.stderr.write(`kube-audit-relay: unknown command '${name}'\n\n${await overview()}\n`);
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
