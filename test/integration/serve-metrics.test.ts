// `serve`'s Prometheus metrics through the real server: batches of every outcome are posted, /metrics is scraped
// and parsed as Prometheus would, and every count the Lambda publishes is there with the value the batches add to.
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { send } from '../support/http-client.ts';
import { parseExposition } from '../support/prometheus-text.ts';
import { startServe, type ServeHandle } from '../support/serve.ts';
import { waitFor } from '../support/wait-for.ts';

const TOKEN = 'metrics-test-token-0123456789abcdef';
const authorized = { authorization: `Bearer ${TOKEN}` };
/** MicroTime, as the API server writes it: six fractional digits. */
const now = new Date().toISOString().replace('Z', '000Z');

/** One audit event as the API server writes it; `extra` adds or replaces fields. */
function auditEvent(id: string, username: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'RequestResponse',
    auditID: `0b6a3c1e-4d2f-4a8b-9c7d-${id.padStart(12, '0')}`,
    stage: 'ResponseComplete',
    requestURI: '/api/v1/namespaces/default/configmaps',
    verb: 'create',
    user: { username },
    objectRef: { resource: 'configmaps', namespace: 'default', name: `cm-${id}`, apiVersion: 'v1' },
    requestReceivedTimestamp: now,
    stageTimestamp: now,
    ...extra,
  });
}
const eventList = (items: readonly string[]) => `{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":[${items.join(',')}]}`;

/** Four events: one kept as is, one Secret (redacted), one over --max-event-bytes (truncated), one dropped by the rules. */
const batch = eventList([
  auditEvent('1', 'alice'),
  auditEvent('2', 'alice', {
    requestURI: '/api/v1/namespaces/default/secrets',
    objectRef: { resource: 'secrets', namespace: 'default', name: 'db', apiVersion: 'v1' },
    requestObject: { kind: 'Secret', apiVersion: 'v1', metadata: { name: 'db' }, data: { password: 'aHVudGVyMg==' } },
  }),
  auditEvent('3', 'alice', { requestObject: { kind: 'ConfigMap', apiVersion: 'v1', data: { big: 'x'.repeat(8_192) } } }),
  auditEvent('4', 'system:kube-proxy'),
]);

type Counts = Record<'received' | 'written' | 'duplicates' | 'filtered' | 'redacted' | 'truncated' | 'bytes', number>;

describe('serve /metrics on the receiver port', () => {
  let server: ServeHandle;
  const answered: Counts[] = [];
  before(async () => {
    server = await startServe(['--max-event-bytes', '4096', '--max-body-bytes', '65536'], {
      AUTH_TOKENS: TOKEN,
      DROP_RULES: '[{"users":["system:kube-proxy"]}]',
    });
  });
  after(async () => {
    await server.stop();
  });

  test('counts stored, duplicate, filtered, redacted and truncated events, refusals by status and sink latency', async () => {
    // act: the batch twice (the second time every event is a duplicate), then one refusal of each kind, a health check
    for (let attempt = 0; attempt < 2; attempt++) {
      const answer = await send(server.url, batch, { headers: authorized });
      assert.equal(answer.status, 200, answer.body);
      answered.push(JSON.parse(answer.body) as Counts);
    }
    const refusals: [number, Promise<{ status: number }>][] = [
      [401, send(server.url, batch)],
      [400, send(server.url, 'kind: EventList', { headers: authorized })],
      [413, send(server.url, eventList(Array.from({ length: 40 }, () => auditEvent('5', 'bob', { requestObject: { pad: 'y'.repeat(2_000) } }))), { headers: authorized })],
      [405, send(server.url, undefined, { method: 'GET', headers: authorized })],
    ];
    for (const [status, answer] of refusals) assert.equal((await answer).status, status);
    assert.equal((await send(server.url, undefined, { method: 'GET', path: '/healthz' })).status, 200);
    const scrape = await send(server.url, undefined, { method: 'GET', path: '/metrics' });

    // assert
    assert.equal(scrape.status, 200);
    assert.match(String(scrape.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    const metrics = parseExposition(scrape.body);
    const total = (key: keyof Counts) => answered.reduce((sum, counts) => sum + counts[key], 0);
    const expected = {
      kube_audit_relay_events_received_total: 8,
      kube_audit_relay_events_written_total: 3,
      kube_audit_relay_events_duplicate_total: 3,
      kube_audit_relay_events_filtered_total: 2,
      kube_audit_relay_events_redacted_total: 2,
      kube_audit_relay_events_truncated_total: 2,
      kube_audit_relay_events_restamped_total: 0,
      kube_audit_relay_bytes_total: total('bytes'),
      // 2 stored + 4 refused; the health check and the scrape are not batches
      kube_audit_relay_batches_total: 6,
    };
    for (const [name, value] of Object.entries(expected)) {
      assert.equal(metrics.types.get(name), 'counter', name);
      assert.equal(metrics.value(name), value, name);
    }
    // The answers' own counts say the same as the counters.
    assert.deepEqual(
      [total('received'), total('written'), total('duplicates'), total('filtered'), total('redacted'), total('truncated')],
      [8, 3, 3, 2, 2, 2],
    );
    assert.ok(total('bytes') > 0);
    for (const status of ['400', '401', '405', '413']) assert.equal(metrics.value('kube_audit_relay_batches_refused_total', { status }), 1, status);
    assert.equal(metrics.value('kube_audit_relay_batches_refused_total', { status: '200' }), undefined);
    assert.equal(metrics.types.get('kube_audit_relay_sink_duration_seconds'), 'histogram');
    assert.equal(metrics.value('kube_audit_relay_sink_duration_seconds_count', { sink: 'stdout' }), 2, 'both stored batches reached the sink');
    assert.equal(metrics.value('kube_audit_relay_sink_duration_seconds_bucket', { sink: 'stdout', le: '+Inf' }), 2);
    assert.ok(metrics.value('kube_audit_relay_sink_duration_seconds_sum', { sink: 'stdout' })! > 0);
    assert.ok(metrics.value('process_resident_memory_bytes')! > 0, 'process metrics are included');
  });
});

describe('serve --metrics-port', () => {
  test('serves /metrics on its own port only, and counts a batch the sink failed as refused with 503', async () => {
    // arrange: every write to /dev/full fails with ENOSPC
    const server = await startServe(['--output', '/dev/full', '--metrics-port', '0']);
    try {
      const metricsUrl = server.logs().find((entry) => entry.msg === 'listening')!.metricsUrl as string;
      assert.notEqual(new URL(metricsUrl).port, new URL(server.url).port);

      // act
      const answer = await send(server.url, batch);
      const scrape = await send(metricsUrl, undefined, { method: 'GET', path: '/metrics' });
      const other = await send(metricsUrl, undefined, { method: 'GET', path: '/' });
      const onReceiverPort = await send(server.url, undefined, { method: 'GET', path: '/metrics' });

      // assert
      assert.equal(answer.status, 503, answer.body);
      assert.equal(scrape.status, 200);
      const metrics = parseExposition(scrape.body);
      assert.equal(metrics.value('kube_audit_relay_batches_refused_total', { status: '503' }), 1);
      assert.equal(metrics.value('kube_audit_relay_events_received_total'), 4);
      assert.equal(metrics.value('kube_audit_relay_events_written_total'), 0);
      assert.equal(metrics.value('kube_audit_relay_sink_duration_seconds_count', { sink: 'file' }), 1, 'a failed write is timed too');
      assert.equal(other.status, 404);
      assert.equal(onReceiverPort.status, 405, 'the receiver port no longer answers /metrics');
    } finally {
      await server.stop();
    }
  });
});

describe('serve /metrics of a best-effort output', () => {
  test('a forward that is down: its failed and dropped events and what it holds back, per output; sent stays 0', async () => {
    // A port that was free a moment ago and has nothing listening: connections are refused.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const forward = `http://127.0.0.1:${port}/k8s-audit`;
    // SINK_TIMEOUT_MS 1 s: each send to the refused forward gives up after retrying for 1 s. The queue holds 1 KiB,
    // so while the first batch is being sent the second waits and the third, which would not fit, is dropped.
    const server = await startServe(['--best-effort-output', forward], { SINK_TIMEOUT_MS: '1000', BEST_EFFORT_QUEUE_BYTES: '1024' });
    try {
      const bodies = [1, 2, 3].map((n) => eventList([auditEvent(`${n}1`, 'alice'), auditEvent(`${n}2`, 'alice')]));
      for (const body of bodies) assert.equal((await send(server.url, body)).status, 200);
      const scrape = async () => parseExposition((await send(server.url, undefined, { method: 'GET', path: '/metrics' })).body);
      const labels = { output: forward };
      // Both sends fail within about 2 s; 15 s leaves room for a loaded machine.
      let metrics = await scrape();
      await waitFor(async () => (metrics = await scrape()).value('kube_audit_relay_best_effort_events_failed_total', labels) === 4, 15_000);
      assert.equal(metrics.value('kube_audit_relay_best_effort_events_failed_total', labels), 4, 'the first two batches were sent and failed');
      assert.equal(metrics.value('kube_audit_relay_best_effort_events_dropped_total', labels), 2, 'the third did not fit in the queue');
      assert.equal(metrics.value('kube_audit_relay_best_effort_events_sent_total', labels), 0);
      assert.equal(metrics.value('kube_audit_relay_best_effort_queued_bytes', labels), 0, 'nothing is left waiting');
      assert.equal(metrics.types.get('kube_audit_relay_best_effort_events_dropped_total'), 'counter');
      assert.equal(metrics.types.get('kube_audit_relay_best_effort_queued_bytes'), 'gauge');
      assert.equal(server.stdout().split('\n').length - 1, 6, 'the guaranteed output (stdout) stored every event');
    } finally {
      await server.stop();
    }
  });
});
