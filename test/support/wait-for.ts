/**
 * Polls `done` every 20 ms until it holds or `timeoutMs` has passed (bounded: it never hangs a test), for effects that
 * arrive after an answer (a log line, bytes on a pipe, a call stored late). The caller asserts afterwards.
 */
export async function waitFor(done: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  for (const started = Date.now(); !(await done()) && Date.now() - started < timeoutMs; ) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
