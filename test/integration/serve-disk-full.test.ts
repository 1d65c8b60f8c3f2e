// serve --output FILE on a real 4 MiB tmpfs that runs out of space in the middle of a batch: the batch gets 503 and
// leaves nothing in the file, and once space returns its retry is stored whole, exactly once.
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventList, send } from '../support/http-client.ts';
import { startServe, type ServeHandle } from '../support/serve.ts';
import { syntheticEvents } from '../support/synthetic-events.ts';
import { cannotMountTmpfs, mountTmpfs, type Tmpfs } from '../support/tmpfs.ts';
import { waitFor } from '../support/wait-for.ts';

const skip = cannotMountTmpfs();
if (skip) console.log(`# skipping the disk-full test: ${skip}`);

describe('serve --output on a filesystem that fills up', { skip }, () => {
  let disk: Tmpfs | undefined;
  let relay: ServeHandle | undefined;

  before(() => {
    disk = mountTmpfs('relay-disk-full-', '4m');
  });
  after(async () => {
    await relay?.stop();
    disk?.remove();
  });

  it('answers 503 for the batch that does not fit, keeps only whole batches, and stores its retry once', async (t) => {
    // CI runs as root and must run this case, not skip it.
    const mountFailure = disk!.failure;
    assert.ok(!(mountFailure && process.env.CI === 'true'), `CI=true, but ${mountFailure}`);
    if (mountFailure) {
      console.log(`# skipping: ${mountFailure}`);
      t.skip(mountFailure);
      return;
    }
    const output = join(disk!.path, 'audit.log');
    // Arrange: 100-event batches of ~100 KB and 350 KB left, so the fourth batch runs out of space part-way.
    const filler = disk!.fillUntil(350 * 1024);
    const batches = Array.from({ length: 4 }, () => syntheticEvents(100, 1_000));
    relay = await startServe(['--output', output]);

    // Act and assert: three fit.
    for (const lines of batches.slice(0, 3)) assert.equal((await send(relay.url, eventList(lines))).status, 200);
    const full = await send(relay.url, eventList(batches[3]!));
    assert.equal(full.status, 503, full.body);
    const stored = () => readFileSync(output, 'utf8');
    assert.equal(stored(), batches.slice(0, 3).flat().map((line) => `${line}\n`).join(''), 'the file holds the three whole batches and nothing of the fourth');
    await waitFor(() => relay!.logs().some((entry) => entry.status === 503));
    const logged = relay.logs().find((entry) => entry.status === 503)!;
    assert.match(String(logged.msg), /: ENOSPC on \S+audit\.log: no space left on the device \(\d+ bytes free on its filesystem, the batch needs 100100 bytes\); .*the file was cut back to where the batch began$/);

    // Space returns; the API server retries the fourth batch and then sends it once more.
    rmSync(filler);
    const retry = await send(relay.url, eventList(batches[3]!));
    assert.equal(retry.status, 200, retry.body);
    assert.deepEqual(JSON.parse(retry.body).written, 100);
    const again = await send(relay.url, eventList(batches[3]!));
    assert.deepEqual([again.status, JSON.parse(again.body).duplicates], [200, 100]);
    assert.equal(stored(), batches.flat().map((line) => `${line}\n`).join(''), 'every event once, in whole lines');
  });
});
