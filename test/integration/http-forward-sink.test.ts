// The forward sink POSTing to a local receiver that accepts, fails, is slow, and is down.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SinkError } from '../../src/errors.ts';
import { createHttpForwardSink } from '../../src/sinks/http-forward.ts';
import { fixtureRecords } from '../support/records.ts';
import { sendContext } from '../support/send-context.ts';
import { createTestPki, type TestPki } from '../support/tls.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';

const all = fixtureRecords();
const v1 = all.filter((record) => record.apiVersion === 'audit.k8s.io/v1').slice(0, 30);
const v1beta1 = all.filter((record) => record.apiVersion === 'audit.k8s.io/v1beta1').slice(0, 5);

async function failure(promise: Promise<unknown>): Promise<SinkError> {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  assert.ok(error instanceof SinkError, `expected a SinkError, got ${String(error)}`);
  return error;
}

describe('HTTP forward sink', () => {
  let receiver: WebhookReceiver;
  before(async () => {
    receiver = await startWebhookReceiver();
  });
  after(async () => receiver?.stop());

  it('POSTs each batch as the API server would: one EventList per API version, items as received', async () => {
    assert.ok(v1beta1.length > 0, 'the corpus holds v1beta1 events');
    const sink = createHttpForwardSink({ url: new URL(receiver.url) });
    const result = await sink.send([...v1, ...v1beta1], sendContext());
    assert.deepEqual([result.written, result.calls], [v1.length + v1beta1.length, 2]);
    const [first, second] = receiver.accepted;
    assert.equal(first!.path, '/k8s-audit?timeout=60s');
    assert.equal(first!.headers['content-type'], 'application/json');
    assert.equal(first!.headers.authorization, undefined);
    assert.deepEqual([first!.body.kind, first!.body.apiVersion, second!.body.apiVersion], ['EventList', 'audit.k8s.io/v1', 'audit.k8s.io/v1beta1']);
    assert.deepEqual(first!.body.items, v1.map((record) => JSON.parse(record.json)));
    assert.deepEqual(second!.body.items, v1beta1.map((record) => JSON.parse(record.json)));
  });

  it('fails the batch, retryably, when the receiver answers 503, and not retryably with advice on 401', async () => {
    const sink = createHttpForwardSink({ url: new URL(receiver.url) });
    receiver.status = 503;
    try {
      const unavailable = await failure(sink.send(v1, sendContext()));
      assert.equal(unavailable.retryable, true);
      assert.match(unavailable.message, /^forward to http:\/\/127\.0\.0\.1:\d+\/k8s-audit: 30 events not delivered \(HTTP 503\)/);
      receiver.status = 401;
      const refused = await failure(sink.send(v1, sendContext()));
      assert.equal(refused.retryable, false);
      assert.match(refused.message, /\(HTTP 401\); check FORWARD_TOKEN_FILE or the client certificate$/);
    } finally {
      receiver.status = 200;
    }
  });

  it('gives up when the receiver is slower than the deadline', async () => {
    const sink = createHttpForwardSink({ url: new URL(receiver.url) });
    receiver.delayMs = 5_000;
    const started = performance.now();
    try {
      const error = await failure(sink.send(v1, sendContext(300)));
      assert.equal(error.retryable, false, 'the batch is out of time');
    } finally {
      receiver.delayMs = 0;
    }
    // Well under the receiver's 5 s: the abort ends the request, whatever the load.
    assert.ok(performance.now() - started < 4_000);
  });

  it('reports a retryable failure when the receiver is down', async () => {
    const down = await startWebhookReceiver();
    await down.stop();
    const error = await failure(createHttpForwardSink({ url: new URL(down.url) }).send(v1, sendContext()));
    assert.equal(error.retryable, true);
    assert.match(error.message, /\(ECONNREFUSED\); check the receiver is up and reachable$/);
  });
});

describe('HTTP forward sink over https', () => {
  let pki: TestPki;
  let receiver: WebhookReceiver;
  const token = 'f0rward-t0ken-0123456789abcdef';
  before(async () => {
    pki = createTestPki();
    receiver = await startWebhookReceiver({ tls: { cert: pki.read(pki.serverCert), key: pki.read(pki.serverKey), ca: pki.read(pki.caCert) }, token });
  });
  after(async () => receiver?.stop());

  it('sends the bearer token and the client certificate, trusting the given CA', async () => {
    const sink = createHttpForwardSink({ url: new URL(receiver.url), token, ca: pki.read(pki.caCert), cert: pki.read(pki.clientCert), key: pki.read(pki.clientKey) });
    assert.equal((await sink.send(v1, sendContext())).written, v1.length);
    assert.equal(receiver.accepted.at(-1)!.headers.authorization, `Bearer ${token}`);
  });

  it('is refused without the client certificate', async () => {
    const sink = createHttpForwardSink({ url: new URL(receiver.url), token, ca: pki.read(pki.caCert) });
    const error = await failure(sink.send(v1, sendContext()));
    assert.equal(error.retryable, true);
    assert.equal(receiver.arrived.length, 1, 'only the certified request arrived');
    assert.match(error.message, /events not delivered \(\w+\); check the receiver is up and reachable$/);
  });
});
