// Waiting for a child process to say where it listens: serve's "listening" log line, s3rver's and azurite's banners.
import type { ChildProcess } from 'node:child_process';

/** serve's log line once it listens; group 1 is its URL. */
export const SERVE_LISTENING = /"msg":"listening","url":"([^"]+)"/;

/**
 * Group 1 of `pattern`'s first match in `output()` (what the child wrote so far), checked on every chunk the child
 * writes to stdout or stderr. Rejects, with the output, if the child exits first or nothing matches within
 * `timeoutMs`; `output` must be fed by listeners added before this is called.
 */
export function listeningLine(child: ChildProcess, output: () => string, pattern: RegExp, options: { readonly name: string; readonly timeoutMs: number }): Promise<string> {
  const { name, timeoutMs } = options;
  const streams = [child.stdout, child.stderr].filter((stream) => stream !== null);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`${name} did not listen within ${timeoutMs} ms:\n${output()}`)), timeoutMs);
    const check = (): void => {
      const match = pattern.exec(output());
      if (match) done(undefined, match[1]!);
    };
    const exit = (code: number | null): void => done(new Error(`${name} exited with ${code} before listening:\n${output()}`));
    function done(error?: Error, found?: string): void {
      clearTimeout(timer);
      for (const stream of streams) stream.off('data', check);
      child.off('exit', exit);
      if (error) reject(error);
      else resolve(found!);
    }
    for (const stream of streams) stream.on('data', check);
    child.once('exit', exit);
    check();
    if (child.exitCode !== null || child.signalCode !== null) exit(child.exitCode);
  });
}
