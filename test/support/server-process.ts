// Local servers the tests talk to (s3rver, azurite) run as real child processes on a free loopback port.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listeningLine } from './listening.ts';

const bin = (name: string): string => fileURLToPath(new URL(`../../node_modules/.bin/${name}`, import.meta.url));

export interface ServerProcess {
  /** e.g. http://127.0.0.1:41234 */
  readonly endpoint: string;
  /** The process's directory (its data, for s3rver). */
  readonly dir: string;
  /** Kills the process and removes its directory, unless `keepData` (to start again on it). */
  stop(options?: { keepData?: boolean }): Promise<void>;
}

/**
 * Starts `command` in a fresh temporary directory (`{dir}` in args is replaced by it) and resolves with the endpoint
 * once its output matches `listening` (group 1: the port). Fails after `startMs`, killing the process.
 */
async function startServerProcess(command: string, args: readonly string[], listening: RegExp, startMs = 20_000, keep?: string): Promise<ServerProcess> {
  const dir = keep ?? mkdtempSync(join(tmpdir(), 'kar-server-'));
  const child = spawn(bin(command), args.map((arg) => arg.replace('{dir}', dir)), { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async ({ keepData = false } = {}): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    if (!keepData) rmSync(dir, { recursive: true, force: true });
  };
  let output = '';
  const read = (chunk: Buffer): void => {
    output += chunk.toString('utf8');
  };
  child.stdout.on('data', read);
  child.stderr.on('data', read);
  try {
    const port = await listeningLine(child, () => output, listening, { name: command, timeoutMs: startMs });
    return { endpoint: `http://127.0.0.1:${port}`, dir, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * s3rver: an S3-compatible server keeping objects in its directory; its one access key is S3RVER, secret S3RVER.
 * `again` starts it once more on the port and data of one stopped with `keepData`, as a store coming back.
 */
export const startS3rver = (again?: { port: number; dir: string }): Promise<ServerProcess> =>
  startServerProcess(
    's3rver',
    ['--directory', '{dir}', '--address', '127.0.0.1', '--port', String(again?.port ?? 0), '--silent'],
    /listening on 127\.0\.0\.1:(\d+)/,
    20_000,
    again?.dir,
  );

/**
 * Azurite's Blob service, in memory, telemetry off (the tests send nothing beyond loopback). Azurite 3.35 is the last
 * release on Node 20 and predates the storage API version @azure/storage-blob 12.32 asks for, hence
 * --skipApiVersionCheck; the operations used here are unchanged between the two versions.
 */
export const startAzuriteBlob = (): Promise<ServerProcess> =>
  startServerProcess(
    'azurite-blob',
    ['--inMemoryPersistence', '--disableTelemetry', '--skipApiVersionCheck', '--blobHost', '127.0.0.1', '--blobPort', '0', '--silent'],
    /listens on http:\/\/127\.0\.0\.1:(\d+)/,
  );

/** Azurite's well-known development account (public, documented by Microsoft). */
export const AZURITE_ACCOUNT = {
  name: 'devstoreaccount1',
  key: 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==',
} as const;
