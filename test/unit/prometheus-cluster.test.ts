// The per-cluster Prometheus metrics through prom-client's own rendering: counters labelled by cluster (no label
// when the relay knows none), and the last-event age, which keeps growing for a cluster that went silent.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRelayMetrics } from '../../src/prometheus.ts';
import { emptyCounts } from '../../src/pipeline.ts';
import { parseExposition } from '../support/prometheus-text.ts';

const batch = (received: number) => ({ ...emptyCounts(), received, written: received });

test('the last event age per cluster grows while a cluster is silent, and restarts with its next batch', async () => {
  // arrange: a clock the test moves
  let clock = 1_000_000;
  const metrics = createRelayMetrics({ now: () => clock });
  const scrape = async () => parseExposition(await metrics.registry.metrics());

  // act and assert
  metrics.recordBatch(200, batch(3), 'prod');
  metrics.recordBatch(200, batch(1), 'staging');
  clock += 90_000;
  metrics.recordBatch(200, batch(2), 'prod');
  metrics.recordBatch(401, emptyCounts(), undefined);
  metrics.recordBatch(503, batch(5), 'staging');
  clock += 30_000;
  let exposition = await scrape();
  assert.equal(exposition.value('kube_audit_relay_last_event_age_seconds', { cluster: 'prod' }), 30);
  // A refused batch (503) is not an event stored: staging's age counts from its last accepted batch.
  assert.equal(exposition.value('kube_audit_relay_last_event_age_seconds', { cluster: 'staging' }), 120);
  assert.equal(exposition.value('kube_audit_relay_events_received_total', { cluster: 'prod' }), 5);
  assert.equal(exposition.value('kube_audit_relay_events_received_total', { cluster: 'staging' }), 6);
  assert.equal(exposition.value('kube_audit_relay_batches_refused_total', { status: '503', cluster: 'staging' }), 1);
  assert.equal(exposition.value('kube_audit_relay_batches_refused_total', { status: '401' }), 1, 'no cluster label when none is known');

  clock += 600_000;
  exposition = await scrape();
  assert.equal(exposition.value('kube_audit_relay_last_event_age_seconds', { cluster: 'staging' }), 720);
});

test('an empty batch (accepted, no events) does not count as a sign of life', async () => {
  let clock = 0;
  const metrics = createRelayMetrics({ now: () => clock });
  metrics.recordBatch(200, batch(1), 'prod');
  clock += 10_000;
  metrics.recordBatch(200, batch(0), 'prod');
  const exposition = parseExposition(await metrics.registry.metrics());
  assert.equal(exposition.value('kube_audit_relay_last_event_age_seconds', { cluster: 'prod' }), 10);
});
