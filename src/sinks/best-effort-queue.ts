import type { LogRecord } from '../record.ts';
import { errorName } from './retry.ts';
import { type SendContext, SinkError } from './sink.ts';

/** A line for the relay's log about a best-effort output; never event content. */
export interface OutputNote {
  readonly level: 'info' | 'warn';
  readonly msg: string;
  readonly output: string;
  /** Events dropped or not stored that the note is about. */
  readonly events: number;
}

/** What a best-effort output has done since it started, for metrics. */
export interface BestEffortStats {
  readonly output: string;
  /** Events the output stored (or skipped as already stored). */
  readonly stored: number;
  /** Events whose send failed or timed out: they were not stored there. */
  readonly failed: number;
  /** Events never sent because the queue was full. */
  readonly dropped: number;
  /** Bytes of events waiting now. */
  readonly queuedBytes: number;
}

/** Where a best-effort queue sends its items: any Sink for records, or another destination for items of its own. */
export interface QueueTarget<T> {
  readonly name: string;
  send(items: readonly T[], context: SendContext): Promise<unknown>;
  close(): Promise<void>;
}

export interface BestEffortQueueOptions {
  /** Bytes of items (`LogRecord.bytes`) that may wait; a batch that would go over is dropped. */
  readonly capacityBytes: number;
  /** Time each send may take. */
  readonly timeoutMs: number;
  readonly note: (note: OutputNote) => void;
  /** Milliseconds since the epoch; injectable for tests. */
  readonly now?: () => number;
}

/**
 * A best-effort output: `offer` never waits. Batches wait in a queue bounded in bytes and go to the sink one at a
 * time, each within its own timeout; a failure is counted and logged, never reported to the caller. When the queue is
 * full the batch is dropped and counted; the first drop and the catching up afterwards are logged once each.
 */
export class BestEffortQueue<T extends Pick<LogRecord, 'bytes'> = LogRecord> {
  readonly #sink: QueueTarget<T>;
  readonly #options: BestEffortQueueOptions;
  readonly #now: () => number;
  readonly #waiting: (readonly T[])[] = [];
  #queuedBytes = 0;
  #stored = 0;
  #failed = 0;
  #dropped = 0;
  /** Events dropped since the queue last had room, or undefined while it keeps up. */
  #droppedSinceBehind: number | undefined;
  #running: Promise<void> | undefined;
  #current: AbortController | undefined;

  constructor(sink: QueueTarget<T>, options: BestEffortQueueOptions) {
    this.#sink = sink;
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  get name(): string {
    return this.#sink.name;
  }

  /** Queues the batch and returns 0, or drops it when the queue is full and returns its event count. */
  offer(records: readonly T[]): number {
    const bytes = records.reduce((total, record) => total + record.bytes, 0);
    const empty = this.#waiting.length === 0;
    if (!empty && this.#queuedBytes + bytes > this.#options.capacityBytes) {
      this.#dropped += records.length;
      if (this.#droppedSinceBehind === undefined) {
        this.#droppedSinceBehind = 0;
        this.#options.note({
          level: 'warn',
          msg: `best-effort output ${this.name} is falling behind: its queue holds ${this.#queuedBytes} bytes (BEST_EFFORT_QUEUE_BYTES ${this.#options.capacityBytes}), so batches are dropped for it until it catches up; the guaranteed outputs still store every event`,
          output: this.name,
          events: records.length,
        });
      }
      this.#droppedSinceBehind += records.length;
      return records.length;
    }
    if (this.#droppedSinceBehind !== undefined) {
      this.#options.note({ level: 'info', msg: `best-effort output ${this.name} caught up; it missed the events dropped meanwhile`, output: this.name, events: this.#droppedSinceBehind });
      this.#droppedSinceBehind = undefined;
    }
    this.#waiting.push(records);
    this.#queuedBytes += bytes;
    this.#running ??= this.#run().finally(() => (this.#running = undefined));
    return 0;
  }

  stats(): BestEffortStats {
    return { output: this.name, stored: this.#stored, failed: this.#failed, dropped: this.#dropped, queuedBytes: this.#queuedBytes };
  }

  /** Waits up to `graceMs` for queued batches to be sent, then abandons the rest (counted as dropped) and closes the sink. */
  async close(graceMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    await Promise.race([this.#running, grace]);
    clearTimeout(timer);
    for (const records of this.#waiting.splice(0)) this.#dropped += records.length;
    this.#current?.abort(new DOMException('the relay is shutting down', 'AbortError'));
    await this.#running;
    await this.#sink.close();
  }

  async #run(): Promise<void> {
    for (let records = this.#waiting.shift(); records !== undefined; records = this.#waiting.shift()) {
      this.#queuedBytes -= records.reduce((total, record) => total + record.bytes, 0);
      const { timeoutMs } = this.#options;
      const controller = new AbortController();
      this.#current = controller;
      const timer = setTimeout(() => controller.abort(new DOMException(`no answer within ${timeoutMs} ms`, 'TimeoutError')), timeoutMs);
      try {
        // A sink that ignores the signal (a stalled connection) must not hold the queue past the timeout.
        await Promise.race([this.#sink.send(records, { signal: controller.signal, deadline: this.#now() + timeoutMs }), rejectOnAbort(controller.signal)]);
        this.#stored += records.length;
      } catch (error) {
        this.#failed += records.length;
        const why = error instanceof SinkError ? error.message : errorName(error);
        this.#options.note({ level: 'warn', msg: `best-effort output ${this.name} did not store a batch: ${why}`, output: this.name, events: records.length });
      } finally {
        clearTimeout(timer);
        this.#current = undefined;
      }
    }
  }
}

function rejectOnAbort(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
}
