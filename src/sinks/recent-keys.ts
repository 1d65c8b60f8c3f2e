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
