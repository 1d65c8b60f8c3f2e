import { type LogRecord, recordKey } from '../record.ts';

/** A bounded set of recently seen keys: once full, adding a key forgets the oldest one. */
export class RecentKeys {
  readonly #keys = new Set<string>();
  /**
   * One iterator kept from the start, whose position is the oldest key: a fresh `values()` per eviction walks over
   * every deleted slot before it again, which made evicting 500,000 keys take about a minute.
   */
  readonly #oldest = this.#keys.values();

  constructor(readonly capacity: number) {}

  has(key: string): boolean {
    return this.#keys.has(key);
  }

  add(key: string): void {
    this.#keys.delete(key);
    this.#keys.add(key);
    while (this.#keys.size > this.capacity) {
      this.#keys.delete(this.#oldest.next().value as string);
    }
  }

  get size(): number {
    return this.#keys.size;
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
