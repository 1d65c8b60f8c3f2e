/**
 * Group commit: items that arrive while a commit is in flight wait, and are then committed together by ONE call of
 * `commit`, so concurrent batches share one durable write instead of queueing for one each. Every item's promise
 * settles with the outcome of the commit that covered it, never earlier: all of a group succeed, or all of it fail
 * with the same error. Commits never overlap, and a group's items are handed over in arrival order.
 */
interface GroupCommit<T> {
  /**
   * Commits `item` with whatever else is waiting; resolves once that commit has completed. An item whose `signal`
   * aborts while it waits is left out of its group and rejected with the signal's reason (the caller has given up,
   * so storing it would only duplicate the retry); once its group has started, it is committed like the others.
   */
  add(item: T, signal?: AbortSignal): Promise<void>;
  /** Resolves once nothing is waiting or being committed. */
  idle(): Promise<void>;
}

interface Waiting<T> {
  readonly item: T;
  readonly signal: AbortSignal | undefined;
  resolve(): void;
  reject(error: unknown): void;
}

/** A group committer over `commit`, which stores a whole group or throws (and then must have stored none of it). */
export function createGroupCommit<T>(commit: (items: readonly T[]) => Promise<void>): GroupCommit<T> {
  let waiting: Waiting<T>[] = [];
  let running: Promise<void> | undefined;

  async function drain(): Promise<void> {
    // Every add() of the same turn joins the first group.
    await undefined;
    for (;;) {
      // Checked and cleared in one step: an add() after this starts the next drain, none is left waiting.
      if (waiting.length === 0) {
        running = undefined;
        return;
      }
      const taken = waiting;
      waiting = [];
      const group: Waiting<T>[] = [];
      for (const entry of taken) {
        if (entry.signal?.aborted) entry.reject(entry.signal.reason);
        else group.push(entry);
      }
      if (group.length === 0) continue;
      try {
        await commit(group.map((entry) => entry.item));
      } catch (error) {
        for (const entry of group) entry.reject(error);
        continue;
      }
      for (const entry of group) entry.resolve();
    }
  }

  return {
    add(item, signal) {
      return new Promise<void>((resolve, reject) => {
        waiting.push({ item, signal, resolve, reject });
        running ??= drain();
      });
    },
    async idle() {
      while (running) await running;
    },
  };
}
