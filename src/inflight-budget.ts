/**
 * Bytes of request bodies being read or processed at once. A batch's memory is a multiple of its body's size (about
 * 13x for the smallest events, see docs/hostile-testing.md), so bounding the bodies in flight bounds the memory.
 */
export class InflightBudget {
  #used = 0;

  /** `max`: the budget in bytes (--max-inflight-bytes). */
  constructor(readonly max: number) {}

  /** Bytes reserved now. */
  get used(): number {
    return this.#used;
  }

  /** Reserves `bytes` if they fit beside what is reserved; false (and nothing reserved) if not. */
  tryReserve(bytes: number): boolean {
    if (this.#used + bytes > this.max) return false;
    this.#used += bytes;
    return true;
  }

  release(bytes: number): void {
    this.#used -= bytes;
  }
}
