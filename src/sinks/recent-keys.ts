/** A bounded set of recently seen keys: once full, adding a key forgets the oldest one. */
export class RecentKeys {
  readonly #keys = new Set<string>();

  constructor(readonly capacity: number) {}

  has(key: string): boolean {
    return this.#keys.has(key);
  }

  add(key: string): void {
    this.#keys.delete(key);
    this.#keys.add(key);
    while (this.#keys.size > this.capacity) {
      this.#keys.delete(this.#keys.values().next().value as string);
    }
  }

  get size(): number {
    return this.#keys.size;
  }
}
