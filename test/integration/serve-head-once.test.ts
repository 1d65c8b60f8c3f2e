// serve decides what the headers alone can decide before reading a body (so an unauthenticated client cannot make it
// hold one), then runs the pipeline on the body: the credentials are checked once per request, not again with the body.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { startServer } from '../../src/cli/server.ts';
import { readPipelineConfig, SettingsReader } from '../../src/config.ts';
import { createPipeline, type Pipeline, type RequestHead } from '../../src/pipeline.ts';
import { createStreamSink } from '../../src/sinks/json-lines.ts';
import { eventList, send } from '../support/http-client.ts';
import { Fixture, fixtureFile } from '../support/records.ts';

const TOKEN = 'head-once-token-0123456789abcdef';

test('one credentials check per request: a stored batch, a refused one and a health check', async () => {
  // Arrange: the real pipeline, seeing each request's headers through a counter of Authorization reads.
  const reader = new SettingsReader({ AUTH_TOKENS: TOKEN });
  const config = readPipelineConfig(reader);
  reader.finish();
  const stdout = new PassThrough();
  let out = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  const real = createPipeline({ config, sink: createStreamSink(stdout) });
  let reads = 0;
  const counted = <T extends RequestHead>(request: T): T => ({
    ...request,
    headers: new Proxy(request.headers, {
      get: (headers, name) => {
        if (name === 'authorization') reads++;
        return headers[name as string];
      },
    }),
  });
  const pipeline: Pipeline = {
    answerHead: (head) => real.answerHead(counted(head)),
    receive: (request, signal) => real.receive(counted(request), signal),
    receiveBody: (accepted, body, signal) => real.receiveBody(accepted, body, signal),
  };
  const server = await startServer({ pipeline, host: '127.0.0.1', port: 0, maxBodyBytes: 1 << 20, log: () => {} });
  try {
    const lines = fixtureFile(Fixture.Metadata).slice(0, 3);

    // Act and assert
    const stored = await send(server.url, eventList(lines), { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(stored.status, 200, stored.body);
    assert.equal(out.trim().split('\n').length, 3);
    assert.equal(reads, 1, 'a stored batch: one check');

    const refused = await send(server.url, eventList(lines), { headers: { authorization: 'Bearer not-the-token-0123456789' } });
    assert.equal(refused.status, 401, refused.body);
    assert.equal(reads, 2, 'a refused batch: one check');

    assert.equal((await send(server.url, undefined, { method: 'GET', path: '/readyz' })).status, 200);
    assert.equal(reads, 2, 'a health check: none');
  } finally {
    await server.close();
  }
});
