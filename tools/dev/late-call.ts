/** A stand-in's "hold one call" fault: after `answered` calls pass, the next is held `ms` before it is handled. */
export class LateCall {
  private left = -1;
  private ms = 0;

  arm(answered: number, ms: number): void {
    this.left = answered;
    this.ms = ms;
  }

  /** Milliseconds to hold the call now arriving: `ms` for the armed one, else 0. */
  holdMs(): number {
    if (this.left < 0) return 0;
    return this.left-- === 0 ? this.ms : 0;
  }
}
