// The in-cluster manifest, checked by running what it says: the container's own arguments (mount paths pointed at
// real files) start a receiver that answers the manifest's probes and stores a batch sent with a mounted token.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { eventList, send } from '../support/http-client.ts';
import { schemaProblems } from '../support/kubernetes-schema.ts';
import { localArgs, type Manifest, manifestDocuments, manifestEnv, relayContainer } from '../support/manifest.ts';
import { parseExposition } from '../support/prometheus-text.ts';
import { Fixture, fixtureFile } from '../support/records.ts';
import { startServe } from '../support/serve.ts';
import { createTestPki } from '../support/tls.ts';

const documents = manifestDocuments();
const byKind = (kind: string): Manifest => documents.find((document) => document.kind === kind)!;

test('every document is valid against the Kubernetes API types', () => {
  for (const document of documents) {
    const { apiVersion, kind, ...rest } = document as Manifest & { apiVersion: string };
    assert.match(apiVersion, /^([a-z0-9.]+\/)?v1$/, kind);
    assert.deepEqual(schemaProblems(rest, `V1${kind}`), [], kind);
  }
  // The check finds what it is for: a misplaced field and a wrong type.
  const deployment = byKind('Deployment');
  assert.deepEqual(schemaProblems({ spec: { ...deployment.spec, maxSkew: 1 } }, 'V1Deployment'), ['spec.maxSkew: no such field in V1DeploymentSpec']);
  assert.deepEqual(schemaProblems({ spec: { replicas: '2' } }, 'V1Deployment'), ['spec.replicas: not a number']);
});

test('two replicas spread over nodes and zones, of which disruptions take at most one at a time', () => {
  const deployment = byKind('Deployment');
  const labels = deployment.spec.template.metadata.labels;
  assert.ok(deployment.spec.replicas >= 2);
  const spread = deployment.spec.template.spec.topologySpreadConstraints as { topologyKey: string; maxSkew: number; labelSelector: { matchLabels: unknown } }[];
  assert.deepEqual(spread.map((constraint) => constraint.topologyKey), ['kubernetes.io/hostname', 'topology.kubernetes.io/zone']);
  for (const constraint of spread) {
    assert.equal(constraint.maxSkew, 1);
    assert.deepEqual(constraint.labelSelector.matchLabels, labels);
  }
  const budget = byKind('PodDisruptionBudget');
  assert.equal(budget.metadata.namespace, deployment.metadata.namespace);
  assert.deepEqual(budget.spec.selector.matchLabels, labels);
  assert.ok(budget.spec.maxUnavailable < deployment.spec.replicas, 'a drain never takes every replica');
});

test('the Deployment, Service and NetworkPolicy agree on ports, labels and paths', () => {
  assert.deepEqual(documents.map((document) => document.kind), ['Namespace', 'Deployment', 'PodDisruptionBudget', 'Service', 'NetworkPolicy']);
  const pod = byKind('Deployment').spec.template;
  const [container] = pod.spec.containers;
  const labels = pod.metadata.labels;
  assert.deepEqual(byKind('Deployment').spec.selector.matchLabels, labels);
  assert.deepEqual(byKind('Service').spec.selector, labels);
  assert.deepEqual(byKind('NetworkPolicy').spec.podSelector.matchLabels, labels);
  const port = container.ports.find((candidate: { name: string }) => candidate.name === byKind('Service').spec.ports[0].targetPort);
  assert.ok(port, 'the Service targets a named container port');
  assert.ok(container.args.includes(`--port=${port.containerPort}`));
  assert.equal(byKind('NetworkPolicy').spec.ingress[0].ports[0].port, port.containerPort);
  for (const probe of [container.readinessProbe, container.livenessProbe]) assert.equal(probe.httpGet.port, port.name);
  assert.ok(pod.spec.terminationGracePeriodSeconds > 30, 'longer than an API server attempt, so batches in flight finish');
  const mounted = container.volumeMounts.map((mount: { mountPath: string }) => mount.mountPath);
  for (const arg of container.args.filter((value: string) => value.startsWith('--') && value.includes('=/'))) {
    const path = arg.split('=')[1];
    assert.ok(mounted.some((mount: string) => path.startsWith(`${mount}/`)), `${arg} is on a mounted volume`);
  }
  assert.equal(container.securityContext.readOnlyRootFilesystem, true, 'the receiver writes nothing but stdout');
});

test('Prometheus finds the metrics port and the NetworkPolicy lets it scrape only that port', () => {
  const pod = byKind('Deployment').spec.template;
  const [container] = pod.spec.containers;
  const metricsPort = container.ports.find((candidate: { name: string }) => candidate.name === 'metrics').containerPort;
  assert.ok(container.args.includes(`--metrics-port=${metricsPort}`));
  assert.equal(pod.metadata.annotations['prometheus.io/scrape'], 'true');
  assert.equal(pod.metadata.annotations['prometheus.io/port'], String(metricsPort));
  assert.equal(pod.metadata.annotations['prometheus.io/path'], '/metrics');
  const scrapeRule = byKind('NetworkPolicy').spec.ingress.find((rule: { ports: { port: number }[] }) => rule.ports.some((port) => port.port === metricsPort));
  assert.deepEqual(scrapeRule.ports, [{ port: metricsPort, protocol: 'TCP' }]);
  // Exactly one namespace: `from: []` or `namespaceSelector: {}` would admit every pod of every namespace.
  assert.deepEqual(scrapeRule.from, [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }], 'only from the monitoring namespace');
});

test("the container's arguments start a receiver that answers its probes and stores a batch", async () => {
  const pki = createTestPki();
  const token = 'f0e1d2c3b4a5968778695a4b3c2d1e0f';
  writeFileSync(join(pki.dir, 'tokens'), `${token}\n`);
  const mounts: Record<string, string> = {
    '/etc/kube-audit-relay/tls/tls.crt': pki.serverCert,
    '/etc/kube-audit-relay/tls/tls.key': pki.serverKey,
    '/etc/kube-audit-relay/auth/tokens': join(pki.dir, 'tokens'),
  };
  const pod = byKind('Deployment').spec.template;
  const container = relayContainer(documents);
  assert.equal(container.args[0], 'serve');
  // Same flags, but on loopback, on free ports (startServe adds --port 0) and with the mounted files' local copies.
  const local = localArgs(container, mounts).slice(1);
  const env = manifestEnv(container);
  const server = await startServe(local, env);
  try {
    const ca = pki.read(pki.caCert);
    for (const probe of [container.readinessProbe, container.livenessProbe]) {
      assert.equal(probe.httpGet.scheme, 'HTTPS');
      assert.equal((await send(server.url, undefined, { method: 'GET', path: probe.httpGet.path, ca })).status, 200);
    }
    const lines = fixtureFile(Fixture.Metadata).slice(0, 4);
    const answer = await send(server.url, eventList(lines), { ca, headers: { authorization: `Bearer ${token}` } });
    assert.equal(answer.status, 200, answer.body);
    const stored = server.stdout().trim().split('\n').map((line) => JSON.parse(line) as { annotations: Record<string, string> });
    assert.equal(stored.length, lines.length);
    assert.ok(stored.every((event) => event.annotations['kube-audit-relay.io/cluster'] === 'my-cluster'));
    const metricsUrl = server.logs().find((entry) => entry.msg === 'listening')!.metricsUrl as string;
    const scrape = await send(metricsUrl, undefined, { method: 'GET', path: pod.metadata.annotations['prometheus.io/path'] });
    assert.equal(scrape.status, 200);
    // The relay's CLUSTER_NAME labels its counters (docs/fleet.md).
    assert.equal(parseExposition(scrape.body).value('kube_audit_relay_events_written_total', { cluster: 'my-cluster' }), lines.length);
  } finally {
    await server.stop();
  }
});
