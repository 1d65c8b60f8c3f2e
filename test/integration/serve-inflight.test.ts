// The in-flight budget (--max-inflight-bytes): bodies being read or processed at once are bounded, so concurrent
// batches cannot take the memory they would need together; the API server retries what is turned away.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { eventList, send } from '../support/http-client.ts';
import { Fixture, fixtureFile } from '../support/records.ts';
import { startServe, type ServeHandle } from '../support/serve.ts';

const lines = fixtureFile(Fixture.Metadata);
const BUDGET = 200_000;

/** A body of about `bytes`: the fixture's events, repeated with new auditIDs, so every one is stored. */
function batchOf(bytes: number, tag: string): string {
  const events: string[] = [];
  for (let i = 0, size = 0; size < bytes; i++) {
    const line = lines[i % lines.length]!.replace(/"auditID":"[^"]+"/, `"auditID":"${tag}-${i}"`);
    events.push(line);
    size += line.length + 1;
  }
  return eventList(events);
}

describe('in-flight budget', () => {
  let server: ServeHandle;
  before(async () => {
    server = await startServe(['--max-inflight-bytes', String(BUDGET)]);
  });
  after(() => server.stop());

  test('a body larger than the whole budget: 413 naming --max-inflight-bytes, before the body is read', async () => {
    const answer = await send(server.url, batchOf(BUDGET + 10_000, 'large'));
    assert.equal(answer.status, 413, answer.body);
    assert.match(answer.body, /--max-inflight-bytes/);
    assert.equal(answer.headers.connection, 'close');
  });

  test('a batch that does not fit beside one in progress: 503 with Retry-After; stored once the first is done', async () => {
    const first = batchOf(BUDGET * 0.6, 'first');
    const second = batchOf(BUDGET * 0.6, 'second');
    // The first batch's headers and half its body, so it holds its share of the budget while the second arrives.
    const { port, hostname } = new URL(server.url);
    const socket = connect(Number(port), hostname);
    let reply = '';
    socket.on('data', (chunk: Buffer) => (reply += chunk.toString('latin1')));
    const closed = new Promise((resolve) => socket.on('close', resolve));
    try {
      socket.write(`POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${first.length}\r\nConnection: close\r\n\r\n`);
      socket.write(first.slice(0, first.length >> 1));
      // Bounded wait until the server has the first request's headers (it reserves on them).
      let refused;
      for (let attempt = 0; attempt < 50; attempt++) {
        refused = await send(server.url, second);
        if (refused.status === 503) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.equal(refused!.status, 503, refused!.body);
      assert.equal(refused!.headers['retry-after'], '5');
      assert.match(refused!.body, /in-flight budget \(--max-inflight-bytes\)/);

      socket.write(first.slice(first.length >> 1));
      await closed;
      assert.match(reply, /^HTTP\/1\.1 200/);
      const retried = await send(server.url, second);
      assert.equal(retried.status, 200, retried.body);
    } finally {
      socket.destroy();
    }
  });

  test('a client that goes away mid-body gives its share of the budget back', async () => {
    const { port, hostname } = new URL(server.url);
    for (let attempt = 0; attempt < 3; attempt++) {
      const socket = connect(Number(port), hostname);
      const closed = new Promise((resolve) => socket.on('close', resolve));
      socket.on('error', () => undefined);
      socket.write(`POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${BUDGET * 0.9}\r\n\r\n{"kind":`);
      await new Promise((resolve) => setTimeout(resolve, 50));
      socket.destroy();
      await closed;
    }
    // Bounded wait for the server to see the disconnects; a share never given back would refuse this batch forever.
    let answer;
    for (let attempt = 0; attempt < 50; attempt++) {
      answer = await send(server.url, batchOf(BUDGET * 0.9, `after-${attempt}`));
      if (answer.status !== 503) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(answer!.status, 200, answer!.body);
  });
});
