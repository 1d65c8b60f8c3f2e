// Group commit: what arrives while a commit is in flight is committed together next, and every item settles only
// with the commit that covered it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createGroupCommit } from '../../src/sinks/group-commit.ts';

/** A commit function whose calls wait until the test finishes or fails them, one at a time. */
function heldCommits() {
  const calls: { items: readonly string[]; finish(): void; fail(error: Error): void }[] = [];
  let running = 0;
  const commit = (items: readonly string[]) =>
    new Promise<void>((resolve, reject) => {
      running++;
      assert.equal(running, 1, 'two commits overlapped');
      const settle = (then: () => void) => () => {
        running--;
        then();
      };
      calls.push({ items: [...items], finish: settle(resolve), fail: (error) => settle(() => reject(error))() });
    });
  return { commit, calls };
}

/** Lets every pending microtask and I/O callback run. */
const settled = () => new Promise((resolve) => setImmediate(resolve));

/** The state of a promise without waiting for it: 'pending', 'resolved' or the rejection's message. */
function track(promise: Promise<void>): () => string {
  let state = 'pending';
  promise.then(
    () => (state = 'resolved'),
    (error: Error) => (state = error.message),
  );
  return () => state;
}

describe('group commit', () => {
  it('commits what arrives during a commit together, in arrival order, and settles nobody before its commit', async () => {
    const { commit, calls } = heldCommits();
    const group = createGroupCommit(commit);
    const first = track(group.add('a'));
    await settled();
    const later = ['b', 'c', 'd'].map((item) => track(group.add(item)));
    await settled();
    assert.deepEqual(calls.map((call) => call.items), [['a']], 'b, c and d wait for the commit in flight');
    assert.equal(first(), 'pending', 'a is not answered before its commit completes');

    calls[0]!.finish();
    await settled();
    assert.equal(first(), 'resolved');
    assert.deepEqual(calls.map((call) => call.items), [['a'], ['b', 'c', 'd']], 'one commit for everything that waited');
    assert.deepEqual(later.map((state) => state()), ['pending', 'pending', 'pending']);
    calls[1]!.finish();
    await settled();
    assert.deepEqual(later.map((state) => state()), ['resolved', 'resolved', 'resolved']);
  });

  it('adds of the same turn form one group', async () => {
    const { commit, calls } = heldCommits();
    const group = createGroupCommit(commit);
    const states = ['a', 'b', 'c'].map((item) => track(group.add(item)));
    await settled();
    assert.deepEqual(calls.map((call) => call.items), [['a', 'b', 'c']]);
    calls[0]!.finish();
    await settled();
    assert.deepEqual(states.map((state) => state()), ['resolved', 'resolved', 'resolved']);
  });

  it('fails every item of a failed group with its error, and only that group', async () => {
    const { commit, calls } = heldCommits();
    const group = createGroupCommit(commit);
    const first = track(group.add('a'));
    await settled();
    const failing = ['b', 'c'].map((item) => track(group.add(item)));
    calls[0]!.finish();
    await settled();
    const after = track(group.add('d'));
    calls[1]!.fail(new Error('disk full'));
    await settled();
    assert.equal(first(), 'resolved');
    assert.deepEqual(failing.map((state) => state()), ['disk full', 'disk full']);
    assert.deepEqual(calls.map((call) => call.items), [['a'], ['b', 'c'], ['d']], 'the next group is committed after a failure');
    calls[2]!.finish();
    await settled();
    assert.equal(after(), 'resolved');
  });

  it('fails the group when commit throws before returning a promise', async () => {
    const group = createGroupCommit<string>(() => {
      throw new Error('thrown at once');
    });
    const results = await Promise.allSettled([group.add('a'), group.add('b')]);
    assert.deepEqual(
      results.map((result) => (result.status === 'rejected' ? (result.reason as Error).message : result.status)),
      ['thrown at once', 'thrown at once'],
    );
    await group.idle();
  });

  it('leaves out an item given up on while it waited, and commits one given up on after its commit began', async () => {
    const { commit, calls } = heldCommits();
    const group = createGroupCommit(commit);
    const inFlight = new AbortController();
    const first = track(group.add('a', inFlight.signal));
    await settled();
    const waiting = new AbortController();
    const abandoned = track(group.add('b', waiting.signal));
    const kept = track(group.add('c'));
    waiting.abort(new Error('the caller went away'));
    inFlight.abort(new Error('too late to matter'));
    calls[0]!.finish();
    await settled();
    assert.equal(first(), 'resolved', 'a was already being written: its commit decides');
    assert.equal(abandoned(), 'the caller went away');
    assert.deepEqual(calls.map((call) => call.items), [['a'], ['c']]);
    calls[1]!.finish();
    await settled();
    assert.equal(kept(), 'resolved');
  });

  it('commits an item added just as the last group settles (from its own callback)', async () => {
    const { commit, calls } = heldCommits();
    const group = createGroupCommit(commit);
    let chained: (() => string) | undefined;
    void group.add('a').then(() => {
      chained = track(group.add('b'));
    });
    await settled();
    calls[0]!.finish();
    await settled();
    assert.deepEqual(calls.map((call) => call.items), [['a'], ['b']], 'b started a commit of its own');
    calls[1]!.finish();
    await settled();
    assert.equal(chained?.(), 'resolved');
    await group.idle();
  });

  it('under adds at random moments and commits of random length, commits each item once and answers it after', async () => {
    // Seeded, so a failure replays: 2,000 items, each added after a random number of microtask or timer turns.
    let seed = 42;
    const random = (n: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    const committed = new Map<string, number>();
    let commits = 0;
    let running = false;
    const group = createGroupCommit<string>(async (items) => {
      assert.ok(!running, 'two commits overlapped');
      running = true;
      for (let turns = random(4); turns > 0; turns--) await (random(2) === 0 ? Promise.resolve() : settled());
      commits++;
      for (const item of items) committed.set(item, (committed.get(item) ?? 0) + 1);
      running = false;
      if (random(10) === 0) throw new Error(`group ${commits} failed`);
    });
    const outcomes = await Promise.all(
      Array.from({ length: 2_000 }, async (_, index) => {
        for (let turns = random(6); turns > 0; turns--) await (random(2) === 0 ? Promise.resolve() : settled());
        const item = `item-${index}`;
        return group.add(item).then(
          () => ({ item, ok: true, seenCommitted: committed.get(item) }),
          () => ({ item, ok: false, seenCommitted: committed.get(item) }),
        );
      }),
    );
    await group.idle();
    for (const outcome of outcomes) assert.equal(outcome.seenCommitted, 1, `${outcome.item} settled before its commit ran, or was committed twice`);
    assert.equal(committed.size, 2_000);
    assert.ok(commits < 2_000, `${commits} commits for 2,000 items: nothing was grouped`);
    assert.ok(outcomes.some((outcome) => !outcome.ok) && outcomes.some((outcome) => outcome.ok));
  });
});
