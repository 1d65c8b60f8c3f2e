// Child process of bench/memory.ts: handles one EventList body and reports the resident set above idle.
// argv: <relay|naive> <body file>. Idle is the resident set after the modules are loaded and a full GC, before the
// body is read; the peak is Linux's high-water mark (VmHWM), reset at that point, so start-up does not count.
import { createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { benchPipeline, naiveReceive, postRequest } from './pipeline.ts';

const [mode, bodyFile] = process.argv.slice(2);
const status = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync('/proc/self/status', 'utf8'))![1]) * 1024;

const devNull = createWriteStream('/dev/null', { flags: 'a' });
const pipeline = benchPipeline(devNull);
(globalThis as { gc?: () => void }).gc?.();
const idle = status('VmRSS');
writeFileSync('/proc/self/clear_refs', '5');

const body = readFileSync(bodyFile!);
if (mode === 'relay') {
  const result = await pipeline.receive(postRequest(body));
  if (result.status !== 200) throw new Error(`memory bench: answered ${result.status} (${result.message})`);
} else {
  await naiveReceive(body, devNull);
}
const peak = status('VmHWM');
process.stdout.write(`${JSON.stringify({ idleBytes: idle, peakBytes: peak })}\n`);
devNull.end();
