// serve writing to outputs that are not regular files, which cannot be fsynced: /dev/null, a FIFO, and stdout as a
// real pipe to this process. Each batch is answered 200 once written, and its retry is skipped, so every event
// arrives exactly once.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { eventList, send } from '../support/http-client.ts';
import { startServe } from '../support/serve.ts';
import { spawnServe } from '../support/serve-process.ts';
import { syntheticEvents } from '../support/synthetic-events.ts';
import { waitFor } from '../support/wait-for.ts';

/** Sends each batch twice (as the API server retries), expecting 200 both times and the second all duplicates. */
async function sendTwice(url: string, batches: readonly string[][]): Promise<void> {
  for (const lines of batches) {
    const first = await send(url, eventList(lines));
    assert.deepEqual([first.status, JSON.parse(first.body).written], [200, lines.length], first.body);
    const retry = await send(url, eventList(lines));
    assert.deepEqual([retry.status, JSON.parse(retry.body).duplicates], [200, lines.length], retry.body);
  }
}


describe('serve with an output that is not a regular file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'relay-non-regular-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const batches = [syntheticEvents(50), syntheticEvents(50)];
  const expected = batches.flat().map((line) => `${line}\n`).join('');

  it('--output /dev/null: 200 for every batch', async () => {
    const relay = await startServe(['--output', '/dev/null']);
    try {
      await sendTwice(relay.url, batches);
    } finally {
      await relay.stop();
    }
  });

  it('--output FIFO: 200 for every batch, each event read once from the FIFO', async () => {
    const fifo = join(dir, 'audit.fifo');
    execFileSync('mkfifo', [fifo]);
    // Opening a FIFO for writing waits for a reader: open the reader first (it waits for the writer in turn).
    const reader = createReadStream(fifo, { encoding: 'utf8' });
    let read = '';
    reader.on('data', (chunk) => (read += String(chunk)));
    const relay = await startServe(['--output', fifo]);
    try {
      await sendTwice(relay.url, batches);
      await waitFor(() => read.length >= expected.length);
      assert.equal(read, expected);
    } finally {
      await relay.stop();
      reader.destroy();
    }
  });

  for (const output of ['/dev/stdout', '-']) {
    it(`--output ${output} with stdout a pipe to this process: 200 for every batch, each event once on the pipe`, async () => {
      const relay = await spawnServe(['--output', output]);
      try {
        await sendTwice(relay.url, batches);
        await waitFor(() => relay.stdout().length >= expected.length);
        assert.equal(relay.stdout(), expected);
      } finally {
        assert.equal(await relay.stop(), 0);
      }
    });
  }
});
