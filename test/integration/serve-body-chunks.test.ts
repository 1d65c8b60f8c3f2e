// serve frees the memory of each chunk Node's HTTP parser delivers as soon as its bytes are in the body, instead of
// leaving ~90 dead 64 KB chunks of a ~6 MB batch to the garbage collector: a freed chunk's ArrayBuffer is detached, its
// length 0. The events must still arrive whole, with a declared length and without one.
import assert from 'node:assert/strict';
import { IncomingMessage } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { eventList, send } from '../support/http-client.ts';
import { startServe, type ServeHandle } from '../support/serve.ts';
import { syntheticEvents } from '../support/synthetic-events.ts';

describe('the chunks of a request body', () => {
  // Every chunk the parser pushes into a request (not into the client's responses, which have no method).
  const pushed: Buffer[] = [];
  const push = IncomingMessage.prototype.push;
  let server: ServeHandle | undefined;

  before(async () => {
    IncomingMessage.prototype.push = function (this: IncomingMessage, chunk: unknown, encoding?: BufferEncoding) {
      if (this.method && Buffer.isBuffer(chunk)) pushed.push(chunk);
      return push.call(this, chunk, encoding);
    };
    server = await startServe(['--auth-mode', 'none']);
  });
  after(async () => {
    IncomingMessage.prototype.push = push;
    await server?.stop();
  });

  for (const [how, headers] of [
    ['with a Content-Length', {}],
    ['sent chunked, without one', { 'transfer-encoding': 'chunked' }],
  ] as const) {
    it(`are freed once copied into the body, ${how}, and every event arrives whole`, async () => {
      pushed.length = 0;
      const written = server!.stdout().length;
      const lines = syntheticEvents(1_500, 700);
      const answer = await send(server!.url, eventList(lines), { headers });
      assert.equal(answer.status, 200, answer.body);
      assert.equal(server!.stdout().slice(written), lines.map((line) => `${line}\n`).join(''));
      assert.ok(pushed.length > 4, `${pushed.length} chunks for a 1 MB body`);
      assert.deepEqual(
        pushed.map((chunk) => chunk.byteLength),
        pushed.map(() => 0),
        'every chunk detached, its memory freed',
      );
    });
  }
});
