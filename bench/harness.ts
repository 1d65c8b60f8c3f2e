// The shared measuring harness: tinybench with warm-up and a minimum number of samples, summarised as median and
// spread so that figures from a noisy, shared machine can still be compared within one run.
import { Bench } from 'tinybench';

/** One measured task: latency statistics in milliseconds over its samples. */
export interface Measurement {
  readonly name: string;
  readonly samples: number;
  readonly medianMs: number;
  /** Interquartile range: a quarter of the samples were faster than p25, a quarter slower than p75. */
  readonly p25Ms: number;
  readonly p75Ms: number;
  /** Median absolute deviation from the median. */
  readonly madMs: number;
}

export interface BenchTask {
  readonly name: string;
  readonly run: () => unknown;
  /** Untimed preparation before each sample, e.g. a fresh sink so that de-duplication never skips a batch. */
  readonly beforeEach?: () => void;
}

export interface MeasureOptions {
  /** Minimum time per task, warm-up excluded. Default 500 ms. */
  readonly timeMs?: number;
  /** Minimum samples per task. Default 10. */
  readonly minSamples?: number;
}

/**
 * Measures the tasks one after another, each after its own warm-up. Tasks compared in a ratio should be measured in
 * the same call so that they see the same machine load.
 */
export async function measure(tasks: readonly BenchTask[], options: MeasureOptions = {}): Promise<Map<string, Measurement>> {
  const bench = new Bench({
    time: options.timeMs ?? 500,
    iterations: options.minSamples ?? 10,
    warmupTime: 100,
    warmupIterations: 3,
    retainSamples: true,
    throws: true,
  });
  for (const task of tasks) {
    bench.add(task.name, task.run, task.beforeEach ? { beforeEach: task.beforeEach } : {});
  }
  await bench.run();
  const measured = new Map<string, Measurement>();
  for (const task of bench.tasks) {
    const result = task.result;
    if (result.state !== 'completed') throw new Error(`benchmark task ${task.name} did not complete (${result.state})`);
    const samples = result.latency.samples ?? [];
    measured.set(task.name, {
      name: task.name,
      samples: samples.length,
      medianMs: result.latency.p50,
      p25Ms: quantile(samples, 0.25),
      p75Ms: result.latency.p75,
      madMs: result.latency.mad,
    });
  }
  return measured;
}

/** Linear-interpolated quantile of ascending samples. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below]! + (sorted[above]! - sorted[below]!) * (position - below);
}

/** Median of unsorted values. */
export const median = (values: readonly number[]): number => quantile([...values].sort((a, b) => a - b), 0.5);

/** `a / b` rounded to two decimals, for ratio columns. */
export const ratio = (a: number, b: number): number => Math.round((a / b) * 100) / 100;
