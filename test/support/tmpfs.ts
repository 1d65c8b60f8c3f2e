// A real tmpfs of a few MiB, for tests of a filesystem that runs out of space: mounting needs root (CI runs as root).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A mounted tmpfs, or why there is none. */
export interface Tmpfs {
  /** The mount point (an empty directory when the mount failed). */
  readonly path: string;
  /** Why it could not be mounted; undefined when it is mounted. */
  readonly failure: string | undefined;
  /** Fills it with a file named `name` until only `leftBytes` are free. */
  fillUntil(leftBytes: number, name?: string): string;
  /** Unmounts it and removes the mount point. */
  remove(): void;
}

/** Why a tmpfs cannot be had here, or undefined when it can. */
export function cannotMountTmpfs(): string | undefined {
  return process.getuid?.() === 0 ? undefined : 'needs root to mount a tmpfs (CI runs as root)';
}

/** Mounts a tmpfs of `size` (mount's -o size=, e.g. '4m') on a fresh directory. */
export function mountTmpfs(prefix: string, size: string): Tmpfs {
  const path = mkdtempSync(join(tmpdir(), prefix));
  let failure: string | undefined;
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', path], { stdio: 'pipe' });
  } catch (error) {
    failure = `mount -t tmpfs failed: ${String((error as { stderr?: Buffer }).stderr ?? error).trim()}`;
  }
  return {
    path,
    failure,
    fillUntil(leftBytes, name = 'filler') {
      const filler = join(path, name);
      const { bavail, bsize } = statfsSync(path);
      writeFileSync(filler, Buffer.alloc(bavail * bsize - leftBytes));
      return filler;
    },
    remove() {
      if (failure === undefined) execFileSync('umount', [path], { stdio: 'pipe' });
      rmSync(path, { recursive: true, force: true });
    },
  };
}
