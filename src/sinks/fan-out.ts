import { SinkError } from '../errors.ts';
import { BestEffortQueue, type BestEffortStats, type OutputNote } from './best-effort-queue.ts';
import type { Sink, SinkResult } from './sink.ts';

/** Default BEST_EFFORT_QUEUE_BYTES: what each best-effort output may hold back while it is slow or down. */
export const DEFAULT_BEST_EFFORT_QUEUE_BYTES = 64 * 1024 * 1024;

export interface FanOutOptions {
  /** Outputs that must store every record before the relay answers 2xx. At least one. */
  readonly guaranteed: readonly Sink[];
  /** Outputs that get every record if they keep up; they never delay or fail the answer. */
  readonly bestEffort?: readonly Sink[];
  /** BEST_EFFORT_QUEUE_BYTES: bytes of events each best-effort output may hold back. Default 67108864 (64 MiB). */
  readonly bestEffortQueueBytes?: number;
  /** Time each best-effort send may take; the pipeline's SINK_TIMEOUT_MS. */
  readonly bestEffortTimeoutMs: number;
  /** Where lines about best-effort outputs falling behind or failing go. */
  readonly note: (note: OutputNote) => void;
  /** Milliseconds since the epoch; injectable for tests. */
  readonly now?: () => number;
}

/** The outputs as one sink, with what the best-effort ones have done for metrics. */
export interface FanOut extends Sink {
  bestEffortStats(): BestEffortStats[];
}

/**
 * Sends each batch to every output. `send` resolves once every guaranteed output stored every record, and rejects
 * otherwise: with that output's SinkError, or an AggregateError holding each failure when several failed. Best-effort
 * outputs are offered the batch first, without waiting: see BestEffortQueue. Records are truncated to fit the
 * smallest output.
 */
export function createFanOut(options: FanOutOptions): FanOut {
  const { guaranteed } = options;
  if (guaranteed.length === 0) throw new Error('a fan-out needs at least one guaranteed output');
  const queues = (options.bestEffort ?? []).map(
    (sink) =>
      new BestEffortQueue(sink, {
        capacityBytes: options.bestEffortQueueBytes ?? DEFAULT_BEST_EFFORT_QUEUE_BYTES,
        timeoutMs: options.bestEffortTimeoutMs,
        note: options.note,
        ...(options.now ? { now: options.now } : {}),
      }),
  );
  const all = [...guaranteed, ...(options.bestEffort ?? [])];

  return {
    name: guaranteed.map((sink) => sink.name).join('+'),
    maxRecordBytes: Math.min(...all.map((sink) => sink.maxRecordBytes)),
    async send(records, context): Promise<SinkResult> {
      const dropped = queues.reduce((total, queue) => total + queue.offer(records), 0);
      const settled = await Promise.allSettled(guaranteed.map((sink) => sink.send(records, context)));
      const errors = settled.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason as unknown] : []));
      if (errors.length === 1) throw errors[0];
      if (errors.length > 1) {
        const what = errors.map((error) => (error instanceof SinkError ? error.message : `${(error as Error).name}: ${(error as Error).message}`));
        throw new AggregateError(errors, `${errors.length} of ${guaranteed.length} guaranteed outputs failed: ${what.join('; ')}`);
      }
      const results = settled.map((outcome) => (outcome as PromiseFulfilledResult<SinkResult>).value);
      // Every guaranteed output holds every record now; the first one's counts say what this batch added (and, when it
      // routes events to tiers, which of them it dropped).
      const first = results[0]!;
      return {
        written: first.written,
        duplicates: first.duplicates,
        restamped: Math.max(...results.map((result) => result.restamped)),
        calls: results.reduce((total, result) => total + result.calls, 0),
        truncated: Math.max(...results.map((result) => result.truncated ?? 0)),
        dropped,
        ...(first.routedToDrop === undefined ? {} : { routedToDrop: first.routedToDrop }),
      };
    },
    bestEffortStats: () => queues.map((queue) => queue.stats()),
    async close() {
      await Promise.all([...guaranteed.map((sink) => sink.close()), ...queues.map((queue) => queue.close(options.bestEffortTimeoutMs))]);
    },
  };
}
