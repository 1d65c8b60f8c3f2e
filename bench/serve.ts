// Benchmark `serve`: the relay as shipped (`kube-audit-relay serve` with default settings, its per-batch log line
// on, writing to stdout and, as a second program, to a regular file with --output) against the naive node receiver
// and a Go receiver, each its own long-lived process with its output in a regular file. A 20,020-event replay is
// sent the way the API server sends it from 4 concurrent senders in another process. Samples are interleaved: each
// round sends the same replay to every program in turn (the order rotating between rounds), so all programs see
// the same machine load; ratios are taken within a round and their median reported.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median } from './harness.ts';
import { Mix, MIXES } from './inputs.ts';
import { cpuMs, goReceiver, NAIVE_NODE, RELAY_FILE, RELAY_STDOUT, startReceiver, waitForLines, type ProgramSpec, type Receiver } from './receivers.ts';
import { startSender, type ReplaySender } from './sender.ts';

/** 50 full 400-event batches and one of 20, so that a short last batch is part of every replay. */
export const REPLAY_EVENTS = 20_020;
export const SENDERS = 4;
const ROUNDS = 5;
/** Metadata replays to the relays before the first sample: enough distinct events to fill their 100,000-key retry memory. */
const WARM_METADATA_REPLAYS = 5;

/** Median and range of the samples. */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

export interface ServeRow {
  readonly mix: Mix;
  readonly program: string;
  /** Seconds from the first batch sent to the last answered. */
  readonly wallSeconds: Spread;
  readonly eventsPerSecond: number;
  /** User plus system CPU time of the receiving process per event, in microseconds. */
  readonly cpuUsPerEvent: Spread;
  /**
   * Per-round ratios against every other program, by its name: this program's figure over the other's in the same
   * round, median and range over the rounds.
   */
  readonly versus: Readonly<Record<string, { readonly wall: Spread; readonly cpu: Spread }>>;
}

export interface ServeResults {
  readonly events: number;
  readonly senders: number;
  readonly rounds: number;
  /** Why the Go receiver is missing, when it is. */
  readonly goSkipped?: string;
  readonly rows: ServeRow[];
}

interface Sample {
  readonly seconds: number;
  readonly cpuMs: number;
}

const isRelay = (program: ProgramSpec): boolean => program.name.startsWith('relay');

const spread = (values: readonly number[]): Spread => ({ median: median(values), min: Math.min(...values), max: Math.max(...values) });

/** Sends the prepared replay to one program and waits until it has written every event. */
async function sample(sender: ReplaySender, receiver: Receiver, events: number): Promise<Sample> {
  const cpuBefore = cpuMs(receiver.pid);
  const result = await sender.send(receiver.url, SENDERS);
  if (result.failed > 0) throw new Error(`serve bench: ${receiver.spec.name} failed ${result.failed} of ${result.batches} batches, the first with ${result.firstFailure}`);
  await waitForLines(receiver, events);
  const sample = { seconds: result.seconds, cpuMs: cpuMs(receiver.pid) - cpuBefore };
  receiver.resetLines();
  return sample;
}

/** Starts the compared programs in `dir`; the Go receiver only when it builds. */
export function comparedPrograms(dir: string): { programs: ProgramSpec[]; goSkipped?: string } {
  const go = goReceiver(dir);
  if ('skipped' in go) {
    process.stderr.write(` (Go receiver left out: ${go.skipped})`);
    return { programs: [RELAY_STDOUT, RELAY_FILE, NAIVE_NODE], goSkipped: go.skipped };
  }
  return { programs: [RELAY_STDOUT, RELAY_FILE, NAIVE_NODE, go] };
}

export async function benchServe(): Promise<ServeResults> {
  const dir = mkdtempSync(join(tmpdir(), 'kar-bench-serve-'));
  try {
    const { programs, goSkipped } = comparedPrograms(dir);
    return { events: REPLAY_EVENTS, senders: SENDERS, rounds: ROUNDS, ...(goSkipped ? { goSkipped } : {}), rows: await compareServe(programs, dir) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Runs the programs side by side in interleaved rounds and returns a row per mix and program; programs whose name
 * starts with "relay" get the relay's longer warm-up.
 */
export async function compareServe(programs: readonly ProgramSpec[], dir: string): Promise<ServeRow[]> {
  const sender = startSender();
  const receivers: Receiver[] = [];
  try {
    for (const program of programs) receivers.push(await startReceiver(program, dir));
    let firstId = 0;
    const replay = async (mix: Mix): Promise<void> => {
      await sender.prepare(mix, REPLAY_EVENTS, firstId);
      firstId += REPLAY_EVENTS;
    };

    // Every program is warmed with a replay of each mix; the relays get more, so that their retry memory is full,
    // as in a cluster that has been running for a while.
    for (let warm = 0; warm < WARM_METADATA_REPLAYS; warm++) {
      await replay(Mix.Metadata);
      for (const receiver of receivers) {
        if (warm === 0 || isRelay(receiver.spec)) await sample(sender, receiver, REPLAY_EVENTS);
      }
    }
    await replay(Mix.RequestResponse);
    for (const receiver of receivers) await sample(sender, receiver, REPLAY_EVENTS);

    const samples = new Map<string, Sample[]>();
    const key = (mix: Mix, program: string): string => `${mix}/${program}`;
    for (let round = 0; round < ROUNDS; round++) {
      for (const mix of MIXES) {
        await replay(mix);
        for (let k = 0; k < receivers.length; k++) {
          const receiver = receivers[(round + k) % receivers.length]!;
          const measured = await sample(sender, receiver, REPLAY_EVENTS);
          samples.set(key(mix, receiver.spec.name), [...(samples.get(key(mix, receiver.spec.name)) ?? []), measured]);
        }
      }
    }

    return MIXES.flatMap((mix) => {
      const of = (program: ProgramSpec): Sample[] => samples.get(key(mix, program.name))!;
      const perRound = (mine: readonly Sample[], theirs: readonly Sample[], figure: keyof Sample): Spread =>
        spread(mine.map((s, round) => s[figure] / theirs[round]![figure]));
      return programs.map((program): ServeRow => {
        const mine = of(program);
        const others = programs.filter((other) => other !== program);
        return {
          mix,
          program: program.name,
          wallSeconds: spread(mine.map((s) => s.seconds)),
          eventsPerSecond: Math.round(REPLAY_EVENTS / median(mine.map((s) => s.seconds))),
          cpuUsPerEvent: spread(mine.map((s) => (s.cpuMs * 1000) / REPLAY_EVENTS)),
          versus: Object.fromEntries(others.map((other) => [other.name, { wall: perRound(mine, of(other), 'seconds'), cpu: perRound(mine, of(other), 'cpuMs') }])),
        };
      });
    });
  } finally {
    for (const receiver of receivers) await receiver.stop();
    sender.close();
  }
}
