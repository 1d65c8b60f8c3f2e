// serve --output FILE on a file whose last line was torn (a crash mid-write): the next event starts on a line of its
// own, the complete lines and the fragment stay as they were, and the log says what was found and done.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { eventList, send } from '../support/http-client.ts';
import { startServe } from '../support/serve.ts';
import { syntheticEvents } from '../support/synthetic-events.ts';

describe('serve --output on a file with a torn last line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'relay-torn-tail-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('appends a newline after the fragment before the first event, and logs it', async () => {
    // Arrange: two whole lines and the first 300 bytes of a third, as a crash mid-write leaves them.
    const [first, second, torn] = syntheticEvents(3, 1_000);
    const before = `${first}\n${second}\n${torn!.slice(0, 300)}`;
    const output = join(dir, 'audit.log');
    writeFileSync(output, before);
    const lines = syntheticEvents(5, 800);

    // Act
    const relay = await startServe(['--output', output]);
    try {
      const answer = await send(relay.url, eventList(lines));

      // Assert
      assert.equal(answer.status, 200, answer.body);
      assert.equal(readFileSync(output, 'utf8'), `${before}\n${lines.join('\n')}\n`);
      const repaired = relay.logs().filter((entry) => /partial line/.test(String(entry.msg)));
      assert.equal(repaired.length, 1);
      assert.deepEqual({ ...repaired[0], time: undefined }, {
        time: undefined,
        level: 'warn',
        msg: `${output} ended in a partial line (300 bytes after the last newline, found on opening it); appended a newline so the next event starts on a line of its own, the partial line is kept as it was`,
        output,
      });
    } finally {
      await relay.stop();
    }
  });

  it('leaves a file that ends in a newline as it is and logs nothing about it', async () => {
    const output = join(dir, 'clean.log');
    const [only] = syntheticEvents(1);
    writeFileSync(output, `${only}\n`);
    const relay = await startServe(['--output', output]);
    try {
      const lines = syntheticEvents(2);
      assert.equal((await send(relay.url, eventList(lines))).status, 200);
      assert.equal(readFileSync(output, 'utf8'), `${only}\n${lines.join('\n')}\n`);
      assert.equal(relay.logs().filter((entry) => /partial line/.test(String(entry.msg))).length, 0);
    } finally {
      await relay.stop();
    }
  });
});
