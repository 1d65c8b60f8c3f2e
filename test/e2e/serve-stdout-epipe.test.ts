// `serve | head -c 300`: the reader of serve's stdout pipe goes away. serve must not die of an unhandled 'error', and
// must never answer 200 for a batch it could not write: every batch after that gets 503, with one clear log line, and
// /readyz says 503 (why, in its body) so that a load balancer or Service sends batches elsewhere.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventList, send } from '../support/http-client.ts';
import { spawnServe } from '../support/serve-process.ts';
import { syntheticEvents } from '../support/synthetic-events.ts';
import { waitFor } from '../support/wait-for.ts';

describe('serve when the reader of its stdout pipe goes away', () => {
  for (const output of ['-', '/dev/stdout']) {
    it(`--output ${output}: 503 for every later batch, the process still serving, exit 0 on SIGTERM`, async () => {
      const relay = await spawnServe(['--output', output]);
      try {
        // Arrange: one batch reaches the reader, which then closes its end, as head does after 300 bytes.
        const first = syntheticEvents(3);
        assert.equal((await send(relay.url, eventList(first))).status, 200);
        assert.equal((await send(relay.url, undefined, { method: 'GET', path: '/readyz' })).status, 200, 'ready while the reader reads');
        await waitFor(() => relay.stdout().length > 0);
        relay.stdoutReader.destroy();

        // Act: the API server sends the next batch and retries it.
        const later = syntheticEvents(3);
        const answers = [await send(relay.url, eventList(later)), await send(relay.url, eventList(later)), await send(relay.url, eventList(syntheticEvents(2)))];

        // Assert
        for (const answer of answers) {
          assert.equal(answer.status, 503, answer.body);
          assert.match(JSON.parse(answer.body).message, /^not stored, the API server will retry the batch: writing \d events to (stdout|file) failed: EPIPE on (stdout|\/dev\/stdout): /);
        }
        const readyz = await send(relay.url, undefined, { method: 'GET', path: '/readyz' });
        assert.equal(readyz.status, 503, 'not ready once the output is known broken');
        assert.match(JSON.parse(readyz.body).message, /^not ready: EPIPE on (stdout|\/dev\/stdout): .*reader has gone away.*--output \(OUTPUTS\)/);
        assert.equal((await send(relay.url, undefined, { method: 'GET', path: '/healthz' })).status, 200, 'still serving');
        assert.equal((await send(relay.url, undefined, { method: 'GET', path: '/livez' })).status, 200, 'still alive');
        assert.equal(relay.child.exitCode, null, 'still running');
        // serve logs a batch after answering it: the last line may still be on its way.
        const failed = () => relay.logs().filter((entry) => entry.status === 503);
        await waitFor(() => failed().length >= 3);
        const failures = failed();
        assert.equal(failures.length, 3);
        assert.match(String(failures[0]!.msg), /EPIPE on \S+: (stdout|the pipe)'s reader has gone away/);
        if (output === '-') assert.equal(relay.logs().filter((entry) => String(entry.msg).startsWith('EPIPE on stdout')).length, 1, 'the closed stdout logged once, besides each batch');
      } finally {
        assert.equal(await relay.stop(), 0, 'a clean exit on SIGTERM');
      }
      assert.doesNotMatch(JSON.stringify(relay.logs()), /Unhandled|\bat \S+:\d+:\d+/);
    });
  }
});
