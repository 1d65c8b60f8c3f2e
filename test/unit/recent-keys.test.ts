// The bounded memory of stored keys that lets sinks skip a retried batch's events.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { recordKey } from '../../src/record.ts';
import { RecentKeys } from '../../src/sinks/recent-keys.ts';

/** A record key as `recordKey` makes it: the 20-byte SHA-1 digest as a 'binary' string. */
const digest = (name: string): string => recordKey({ auditID: name, stage: 'ResponseComplete', json: name });

const present = (keys: RecentKeys, names: readonly string[]): boolean[] => names.map((name) => keys.has(digest(name)));

describe('age order', () => {
  test('once full, each added key forgets the oldest; adding a known key again makes it the newest', () => {
    const keys = new RecentKeys(3);
    for (const name of ['a', 'b', 'c', 'a', 'd']) keys.add(digest(name));
    assert.equal(keys.size, 3);
    assert.deepEqual(present(keys, ['a', 'b', 'c', 'd']), [true, false, true, true]);
    keys.add(digest('e'));
    assert.deepEqual(present(keys, ['a', 'c', 'd', 'e']), [true, false, true, true]);
  });

  test('keeps exactly the newest `capacity` keys, in the order they were last added', () => {
    const keys = new RecentKeys(1_000);
    for (let i = 0; i < 3_000; i++) keys.add(digest(`event-${i}`));
    assert.equal(keys.size, 1_000);
    const kept = Array.from({ length: 3_000 }, (_, i) => i).filter((i) => keys.has(digest(`event-${i}`)));
    assert.deepEqual(kept, Array.from({ length: 1_000 }, (_, i) => 2_000 + i));
    keys.add(digest('event-2000'));
    keys.add(digest('new'));
    assert.deepEqual(present(keys, ['event-2000', 'event-2001', 'event-2002', 'new']), [true, false, true, true]);
  });

  test('matches a plain list of the newest distinct keys through random adds, re-adds and evictions', () => {
    // Few buckets, few possible keys: re-adds, evictions out of the middle of probe runs and wrapping runs all happen.
    let seed = 7;
    const random = (below: number): number => {
      seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
      return (seed >>> 8) % below;
    };
    for (const capacity of [1, 2, 7, 8, 33]) {
      const keys = new RecentKeys(capacity);
      const model: string[] = [];
      const universe = Array.from({ length: capacity * 3 }, (_, i) => digest(`key-${capacity}-${i}`));
      for (let step = 0; step < 5_000; step++) {
        const key = universe[random(universe.length)]!;
        keys.add(key);
        if (model.includes(key)) model.splice(model.indexOf(key), 1);
        model.push(key);
        if (model.length > capacity) model.shift();
        assert.equal(keys.size, model.length);
        if (step % 50 === 0) assert.deepEqual(universe.map((each) => keys.has(each)), universe.map((each) => model.includes(each)), `capacity ${capacity}, step ${step}`);
      }
    }
  });

  test('forgetting keys costs the same however many were forgotten before (600,000 keys through 100,000 places)', () => {
    // Looking for the oldest key anew each time walked every slot freed before it: a minute for 600,000 keys, which
    // held a 600,000-event batch (and every other request) that long. Now about a second even on a loaded machine.
    const keys = new RecentKeys(100_000);
    const names = Array.from({ length: 600_000 }, (_, i) => digest(`key-${i}`));
    const started = performance.now();
    for (const name of names) keys.add(name);
    const seconds = (performance.now() - started) / 1000;
    assert.equal(keys.size, 100_000);
    assert.ok(keys.has(names[599_999]!) && !keys.has(names[499_999]!) && keys.has(names[500_000]!));
    assert.ok(seconds < 15, `${seconds.toFixed(1)} s`);
  });
});

describe('capacity boundaries', () => {
  test('a capacity of 0 remembers nothing', () => {
    const keys = new RecentKeys(0);
    keys.add(digest('a'));
    assert.deepEqual([keys.size, keys.has(digest('a'))], [0, false]);
  });

  test('a capacity of 1 keeps the last key only', () => {
    const keys = new RecentKeys(1);
    keys.add(digest('a'));
    keys.add(digest('a'));
    assert.deepEqual([keys.size, ...present(keys, ['a'])], [1, true]);
    keys.add(digest('b'));
    assert.deepEqual([keys.size, ...present(keys, ['a', 'b'])], [1, false, true]);
  });

  for (const capacity of [64, 100]) {
    test(`full at exactly ${capacity} keys, and the next forgets only the first`, () => {
      const keys = new RecentKeys(capacity);
      const names = Array.from({ length: capacity + 1 }, (_, i) => `event-${i}`);
      for (const name of names.slice(0, capacity)) keys.add(digest(name));
      assert.equal(keys.size, capacity);
      assert.ok(present(keys, names.slice(0, capacity)).every(Boolean));
      keys.add(digest(names[capacity]!));
      assert.equal(keys.size, capacity);
      assert.deepEqual(present(keys, names).map((kept, i) => kept !== (i > 0)), names.map(() => false));
    });
  }
});

describe('keys', () => {
  test('a 20-character key with characters beyond one byte is not taken for one with the same low bytes', () => {
    const keys = new RecentKeys(10);
    const narrow = '\u0001'.repeat(20);
    const wide = '\u0101'.repeat(20);
    keys.add(wide);
    assert.deepEqual([keys.has(wide), keys.has(narrow)], [true, false]);
    keys.add(narrow);
    assert.deepEqual([keys.has(wide), keys.has(narrow), keys.size], [true, true, 2]);
  });

  test('keys of any other length are remembered too', () => {
    const keys = new RecentKeys(10);
    for (const key of ['', 'a', 'b'.repeat(19), 'c'.repeat(21), 'é'.repeat(40)]) keys.add(key);
    assert.deepEqual(['', 'a', 'b'.repeat(19), 'c'.repeat(21), 'é'.repeat(40), 'd'].map((key) => keys.has(key)), [true, true, true, true, true, false]);
  });
});

describe('crafted digests', () => {
  test('digests that differ only in the high bits of their last word do not pile into one run of buckets', () => {
    // A table indexed by the digest's low bits (or any one word of it) would put all of these in one bucket.
    const keys = new RecentKeys(100_000);
    const crafted = Array.from({ length: 100_000 }, (_, i) => {
      const bytes = Buffer.alloc(20, 0x5a);
      bytes.writeUInt32BE(i << 15 >>> 0, 16);
      return bytes.toString('latin1');
    });
    for (const key of crafted) keys.add(key);
    assert.equal(new Set(crafted).size, crafted.length);
    assert.ok(crafted.every((key) => keys.has(key)));
    const probes = crafted.map((key) => keys.probeLength(key));
    const mean = probes.reduce((sum, each) => sum + each, 0) / probes.length;
    // At most 38% of the buckets are full: linear probing then averages about 1.3 probes per hit, and the longest run
    // stays in the tens (these bounds are several times that and still far below the 100,000 of one shared bucket).
    assert.ok(mean < 3, `mean probe length ${mean}`);
    assert.ok(Math.max(...probes) < 200, `longest probe ${Math.max(...probes)}`);
  });

  test('digests ground to share a bucket in one relay spread out in another: the hash is seeded per instance', () => {
    const target = new RecentKeys(64);
    const first = digest('ground-0');
    target.add(first);
    // A lookup that examines two buckets starts at the first digest's bucket: 1 in 128 candidates.
    const ground: string[] = [];
    for (let i = 1; ground.length < 60 && i < 100_000; i++) {
      const candidate = digest(`ground-${i}`);
      if (target.probeLength(candidate) === 2) ground.push(candidate);
    }
    assert.equal(ground.length, 60);
    for (const key of ground) target.add(key);
    assert.equal(Math.max(...ground.map((key) => target.probeLength(key))), 61, 'the ground digests share one bucket here');

    const other = new RecentKeys(64);
    for (const key of [first, ...ground]) other.add(key);
    const longest = Math.max(...[first, ...ground].map((key) => other.probeLength(key)));
    // 61 keys in 128 buckets at random: a run of 30 has a probability far below one in a billion.
    assert.ok(longest < 30, `longest probe ${longest}`);
  });

  test('a retried key is found after every eviction that shifted its run of buckets back', () => {
    // 200 keys that all start at one bucket (ground as above): each eviction empties the run's first bucket and shifts
    // the rest back; every remaining key must still be found and every evicted one gone.
    const keys = new RecentKeys(200);
    keys.add(digest('run-0'));
    const run = [digest('run-0')];
    for (let i = 1; run.length < 200 && i < 1_000_000; i++) {
      const candidate = digest(`run-${i}`);
      if (keys.probeLength(candidate) === 2) run.push(candidate);
    }
    assert.equal(run.length, 200);
    for (const key of run.slice(1)) keys.add(key);
    const fillers = Array.from({ length: 200 }, (_, i) => digest(`filler-${i}`));
    for (let evicted = 0; evicted < 200; evicted++) {
      keys.add(fillers[evicted]!);
      assert.equal(keys.has(run[evicted]!), false, `key ${evicted} evicted`);
      if (evicted % 20 === 0) assert.ok(run.slice(evicted + 1).every((key) => keys.has(key)), `after ${evicted + 1} evictions`);
    }
  });
});
