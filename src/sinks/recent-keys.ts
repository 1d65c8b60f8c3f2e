import { type LogRecord, recordKey } from '../record.ts';

/**
 * A bounded set of recently seen keys: once full, adding a key forgets the oldest one (adding a known key again
 * makes it the newest).
 *
 * The age order is a queue of its own rather than the Set's insertion order: deleting a Set's oldest entry leaves a
 * hole that every later `values().next()` walks over until V8 rehashes, so at capacity each add cost time in
 * proportion to the keys already evicted (100-360 µs per key at 100,000 keys, more than everything else the relay
 * does with an event).
 */
export class RecentKeys {
  /** Each key and the sequence number of its latest add. */
  readonly #added = new Map<string, number>();
  /** Keys in the order they were added, repeats included, from `#head` on, with the sequence number of each add. */
  #keys: string[] = [];
  #sequences: number[] = [];
  #head = 0;
  #nextSequence = 0;

  constructor(readonly capacity: number) {}

  has(key: string): boolean {
    return this.#added.has(key);
  }

  add(key: string): void {
    const sequence = this.#nextSequence++;
    this.#added.set(key, sequence);
    this.#keys.push(key);
    this.#sequences.push(sequence);
    while (this.#added.size > this.capacity) {
      const oldest = this.#keys[this.#head]!;
      // A key added again since has a newer entry: only its latest entry forgets it.
      if (this.#added.get(oldest) === this.#sequences[this.#head]) this.#added.delete(oldest);
      this.#head++;
    }
    // Now and then drop the consumed front and all but the latest entry of each key: the queue stays at most about
    // twice as long as the set, at an amortised constant cost per add.
    if (this.#keys.length > 2 * this.#added.size + 1024) {
      const keys: string[] = [];
      const sequences: number[] = [];
      for (let i = this.#head; i < this.#keys.length; i++) {
        if (this.#added.get(this.#keys[i]!) !== this.#sequences[i]) continue;
        keys.push(this.#keys[i]!);
        sequences.push(this.#sequences[i]!);
      }
      this.#keys = keys;
      this.#sequences = sequences;
      this.#head = 0;
    }
  }

  get size(): number {
    return this.#added.size;
  }
}

/** Splits a batch into records not yet stored (first of each key) and a count of those already seen or repeated. */
export function unseenRecords(records: readonly LogRecord[], stored: RecentKeys): { fresh: LogRecord[]; duplicates: number } {
  const fresh = new Map<string, LogRecord>();
  let duplicates = 0;
  for (const record of records) {
    const key = recordKey(record);
    if (stored.has(key) || fresh.has(key)) duplicates++;
    else fresh.set(key, record);
  }
  return { fresh: [...fresh.values()], duplicates };
}
