import { writeFile } from 'node:fs/promises';
import { RelayError } from '../errors.ts';
import type { CommandIo } from './command.ts';

/**
 * Writes a generated file to `path`, or to stdout when path is omitted or `-`. Files are created owner-only
 * (0600) because kubeconfigs can hold credentials and the API server needs only to read them as root.
 */
export async function writeOutput(io: CommandIo, path: string | undefined, text: string): Promise<void> {
  if (path === undefined || path === '-') {
    io.stdout.write(text);
    return;
  }
  try {
    await writeFile(path, text, { mode: 0o600 });
  } catch (error) {
    throw new RelayError(`-o ${path} cannot be written (${(error as NodeJS.ErrnoException).code ?? String(error)}): check the directory exists and is writable`, { cause: error });
  }
}
