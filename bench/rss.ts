// Benchmark `rss`: the resident set of each compared program at rest (a fresh process, a second after it listens)
// and its peak above that while it handles one ~6 MB EventList (Lambda's payload limit), read from /proc for the
// receiving process itself. Median of 3 fresh processes per program and mix.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { median, ratio } from './harness.ts';
import { MIXES, type Mix } from './inputs.ts';
import { sixMegabyteBody } from './memory.ts';
import { resetPeak, startReceiver, statusBytes, waitForLines } from './receivers.ts';
import { startSender } from './sender.ts';
import { comparedPrograms } from './serve.ts';

const RUNS = 3;
/** Start-up garbage and lazily loaded code settle within this; the API server's first batch comes later still. */
const SETTLE_MS = 1_000;

export interface RssRow {
  readonly mix: Mix;
  readonly program: string;
  readonly events: number;
  readonly payloadBytes: number;
  /** Median over runs of the resident set before the batch. */
  readonly idleBytes: number;
  /** Median over runs of the peak resident set while handling the batch, minus idle. */
  readonly peakAboveIdleBytes: number;
  /** peakAboveIdleBytes over the payload; goal at most 4 for the relay. */
  readonly peakPerPayload: number;
}

export async function benchRss(): Promise<RssRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'kar-bench-rss-'));
  const sender = startSender();
  try {
    const { programs } = comparedPrograms(dir);
    const rows: RssRow[] = [];
    for (const mix of MIXES) {
      const { events } = sixMegabyteBody(mix);
      const { bytes } = await sender.prepare(mix, events, 0, events);
      const runs = new Map(programs.map((program) => [program.name, [] as { idle: number; peak: number }[]]));
      for (let run = 0; run < RUNS; run++) {
        for (const program of programs) {
          const receiver = await startReceiver(program, dir);
          try {
            await sleep(SETTLE_MS);
            const idle = statusBytes(receiver.pid, 'VmRSS');
            resetPeak(receiver.pid);
            const result = await sender.send(receiver.url, 1);
            if (result.failed > 0) throw new Error(`rss bench: ${program.name} did not answer 2xx to the ${bytes}-byte batch (${result.firstFailure})`);
            await waitForLines(receiver, events);
            runs.get(program.name)!.push({ idle, peak: statusBytes(receiver.pid, 'VmHWM') - idle });
            receiver.resetLines();
          } finally {
            await receiver.stop();
          }
        }
      }
      for (const program of programs) {
        const measured = runs.get(program.name)!;
        const peakAboveIdleBytes = median(measured.map((m) => m.peak));
        rows.push({
          mix,
          program: program.name,
          events,
          payloadBytes: bytes,
          idleBytes: median(measured.map((m) => m.idle)),
          peakAboveIdleBytes,
          peakPerPayload: ratio(peakAboveIdleBytes, bytes),
        });
      }
    }
    return rows;
  } finally {
    sender.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
