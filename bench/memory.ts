// Benchmark 5: peak resident memory while the pipeline handles a ~6 MB EventList (Lambda's payload limit), each run
// in a fresh process, against the naive receiver handling the same body; and the relay again with a small young
// generation (--max-semi-space-size=2), the one V8 setting that moves the figure.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, ratio } from './harness.ts';
import { eventListBody, MIXES, mixLines, type Mix } from './inputs.ts';

const CHILD = fileURLToPath(new URL('./memory-child.ts', import.meta.url));
/** Just under Lambda's 6,291,456-byte synchronous payload limit, leaving room for API Gateway's event wrapping. */
const TARGET_BYTES = 6_000_000;
const RUNS = 3;
const SMALL_YOUNG_GENERATION = ['--max-semi-space-size=2'];

export interface MemoryRow {
  readonly mix: Mix;
  readonly events: number;
  readonly payloadBytes: number;
  /** Median over runs of peak minus idle resident set. */
  readonly relayAboveIdleBytes: number;
  readonly naiveAboveIdleBytes: number;
  readonly relaySmallYoungAboveIdleBytes: number;
  /** Relay's peak above idle over the payload size; goal under 4. */
  readonly relayPerPayload: number;
  readonly naivePerPayload: number;
  readonly relaySmallYoungPerPayload: number;
}

/** The largest body of the mix under TARGET_BYTES. */
export function sixMegabyteBody(mix: Mix): { body: Buffer; events: number } {
  const averageLine = mixLines(mix).reduce((sum, line) => sum + line.length, 0) / mixLines(mix).length;
  let events = Math.floor(TARGET_BYTES / averageLine);
  let body = eventListBody(mix, events);
  while (body.byteLength > TARGET_BYTES) body = eventListBody(mix, --events);
  while (true) {
    const larger = eventListBody(mix, events + 1);
    if (larger.byteLength > TARGET_BYTES) return { body, events };
    body = larger;
    events++;
  }
}

function aboveIdle(mode: string, bodyFile: string, nodeOptions: readonly string[] = []): number {
  const output = execFileSync(process.execPath, [...nodeOptions, '--expose-gc', '--import', 'tsx', CHILD, mode, bodyFile], { encoding: 'utf8' });
  const { idleBytes, peakBytes } = JSON.parse(output) as { idleBytes: number; peakBytes: number };
  return peakBytes - idleBytes;
}

export function benchMemory(): MemoryRow[] {
  const dir = mkdtempSync(join(tmpdir(), 'kar-bench-'));
  try {
    return MIXES.map((mix) => {
      const { body, events } = sixMegabyteBody(mix);
      const bodyFile = join(dir, `${mix}.json`);
      writeFileSync(bodyFile, body);
      const relay: number[] = [];
      const naive: number[] = [];
      const relaySmallYoung: number[] = [];
      for (let run = 0; run < RUNS; run++) {
        relay.push(aboveIdle('relay', bodyFile));
        naive.push(aboveIdle('naive', bodyFile));
        relaySmallYoung.push(aboveIdle('relay', bodyFile, SMALL_YOUNG_GENERATION));
      }
      const relayAboveIdleBytes = median(relay);
      const naiveAboveIdleBytes = median(naive);
      const relaySmallYoungAboveIdleBytes = median(relaySmallYoung);
      return {
        mix,
        events,
        payloadBytes: body.byteLength,
        relayAboveIdleBytes,
        naiveAboveIdleBytes,
        relaySmallYoungAboveIdleBytes,
        relayPerPayload: ratio(relayAboveIdleBytes, body.byteLength),
        naivePerPayload: ratio(naiveAboveIdleBytes, body.byteLength),
        relaySmallYoungPerPayload: ratio(relaySmallYoungAboveIdleBytes, body.byteLength),
      };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
