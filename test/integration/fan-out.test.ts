// The fan-out over real sinks: JSON-lines files as guaranteed outputs, the forward sink to local receivers that fail,
// are slow or are down, as guaranteed or best-effort outputs.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SinkError } from '../../src/errors.ts';
import type { OutputNote } from '../../src/sinks/best-effort-queue.ts';
import { withDeduplication } from '../../src/sinks/deduplicate.ts';
import { createFanOut } from '../../src/sinks/fan-out.ts';
import { createHttpForwardSink } from '../../src/sinks/http-forward.ts';
import { createFileSink } from '../../src/sinks/json-lines.ts';
import type { Sink } from '../../src/sinks/sink.ts';
import { generatedEvents } from '../support/apiserver-webhook.ts';
import { fixtureLines } from '../support/event-lists.ts';
import { fixtureRecords, recordFromLine } from '../support/records.ts';
import { sendContext } from '../support/send-context.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';

const records = fixtureRecords().slice(0, 40);
/** Six batches of 40 distinct events made from the fixtures. */
const generated = generatedEvents(fixtureLines(), 240).map(recordFromLine);
const batches = Array.from({ length: 6 }, (_, i) => generated.slice(i * 40, i * 40 + 40));
const bytesOf = (batch: readonly { bytes: number }[]): number => batch.reduce((total, record) => total + record.bytes, 0);
const dir = mkdtempSync(join(tmpdir(), 'kar-fan-out-'));
const lines = (path: string): string[] => readFileSync(path, 'utf8').split('\n').slice(0, -1);
const itemsAccepted = (receiver: WebhookReceiver): number => receiver.accepted.reduce((total, post) => total + post.body.items.length, 0);
const forward = (receiver: WebhookReceiver): Sink => createHttpForwardSink({ url: new URL(receiver.url) });

async function until(condition: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('fan-out', () => {
  let receiver: WebhookReceiver;
  let failing: WebhookReceiver;
  before(async () => {
    receiver = await startWebhookReceiver();
    failing = await startWebhookReceiver();
    failing.status = 500;
  });
  after(async () => {
    await receiver?.stop();
    await failing?.stop();
  });

  it('answers once every guaranteed output stored the batch, and the best-effort one gets it too', async () => {
    const [a, b] = [join(dir, 'a.log'), join(dir, 'b.log')];
    const fanOut = createFanOut({ guaranteed: [await createFileSink(a), await createFileSink(b)], bestEffort: [forward(receiver)], bestEffortTimeoutMs: 5_000, note: () => {} });
    const result = await fanOut.send(records, sendContext());
    assert.deepEqual([result.written, result.dropped], [records.length, 0]);
    assert.deepEqual(lines(a), lines(b));
    assert.equal(lines(a).length, records.length);
    await until(() => fanOut.bestEffortStats()[0]!.stored > 0, 5_000);
    assert.equal(itemsAccepted(receiver), records.length);
    assert.deepEqual(fanOut.bestEffortStats(), [{ output: 'http-forward', stored: records.length, failed: 0, dropped: 0, queuedBytes: 0 }]);
    await fanOut.close();
  });

  it('fails with the one SinkError when one guaranteed output fails, and an AggregateError naming each when several do', async () => {
    const file = join(dir, 'c.log');
    const one = createFanOut({ guaranteed: [await createFileSink(file), forward(failing)], bestEffortTimeoutMs: 5_000, note: () => {} });
    await assert.rejects(one.send(records, sendContext()), (error: unknown) => error instanceof SinkError && /HTTP 500/.test(error.message));
    assert.equal(lines(file).length, records.length, 'the other output stored the batch');

    const several = createFanOut({ guaranteed: [forward(failing), forward(failing)], bestEffortTimeoutMs: 5_000, note: () => {} });
    await assert.rejects(several.send(records, sendContext()), (error: unknown) => {
      assert.ok(error instanceof AggregateError);
      assert.equal(error.errors.length, 2);
      assert.match(error.message, /^2 of 2 guaranteed outputs failed: forward to .*HTTP 500.*; forward to .*HTTP 500/);
      return true;
    });
    await one.close();
    await several.close();
  });

  it('never waits for a slow best-effort output: its queue fills, batches are dropped and counted, and it is logged once each way', async () => {
    const slow = await startWebhookReceiver();
    slow.delayMs = 1_000;
    const notes: OutputNote[] = [];
    const file = join(dir, 'd.log');
    const fanOut = createFanOut({
      guaranteed: [withDeduplication(await createFileSink(file))],
      bestEffort: [forward(slow)],
      // Room for the second and third batch while the first is being sent.
      bestEffortQueueBytes: bytesOf(batches[1]!) + bytesOf(batches[2]!),
      bestEffortTimeoutMs: 10_000,
      note: (note) => notes.push(note),
    });
    try {
      let dropped = 0;
      const started = performance.now();
      for (const batch of batches) dropped += (await fanOut.send(batch, sendContext())).dropped ?? 0;
      // Six batches into a local file: far below the receiver's one second per batch, even on a loaded machine.
      assert.ok(performance.now() - started < 900, 'the answers did not wait for the slow output');
      // The first batch is being sent, the next two wait, the last three are dropped.
      assert.equal(dropped, 3 * 40);
      assert.deepEqual(notes.map((note) => [note.level, note.events]), [['warn', 40]]);
      assert.match(notes[0]!.msg, /^best-effort output http-forward is falling behind: .*BEST_EFFORT_QUEUE_BYTES/);
      assert.equal(lines(file).length, 6 * 40, 'the guaranteed output stored every batch');

      slow.delayMs = 0;
      await until(() => itemsAccepted(slow) === 3 * 40, 8_000);
      await fanOut.send(records, sendContext());
      assert.deepEqual(notes.map((note) => [note.level, note.events]), [['warn', 40], ['info', 3 * 40]]);
      await until(() => fanOut.bestEffortStats()[0]!.stored === 4 * 40, 5_000);
      assert.deepEqual(fanOut.bestEffortStats().map(({ stored, dropped: lost }) => [stored, lost]), [[4 * 40, 3 * 40]]);
    } finally {
      await fanOut.close();
      await slow.stop();
    }
  });

  it('logs a best-effort output that fails and counts its events as failed, still answering for the guaranteed output', async () => {
    const down = await startWebhookReceiver();
    await down.stop();
    const notes: OutputNote[] = [];
    const fanOut = createFanOut({ guaranteed: [await createFileSink(join(dir, 'e.log'))], bestEffort: [forward(down)], bestEffortTimeoutMs: 5_000, note: (note) => notes.push(note) });
    assert.equal((await fanOut.send(records, sendContext())).written, records.length);
    await until(() => notes.length === 1, 5_000);
    assert.match(notes[0]!.msg, /^best-effort output http-forward did not store a batch: forward to .* \(ECONNREFUSED\)/);
    assert.equal(fanOut.bestEffortStats()[0]!.failed, records.length);
    await fanOut.close();
  });
});
