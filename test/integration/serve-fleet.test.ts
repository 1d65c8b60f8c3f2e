// Several clusters on one real `serve` over TLS: the credential decides each event's cluster (token lines
// `<token> <cluster>`, basic-auth lines `user:password <cluster>`, a client certificate's CN), whatever cluster the
// event itself claimed; a claim that differs is overwritten, counted as spoofed and logged without event content.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Annotation } from '../../src/audit/annotations.ts';
import { startCloudWatchLogsStandIn } from '../../tools/dev/cloudwatch-logs-standin.ts';
import { eventList, send } from '../support/http-client.ts';
import { parseExposition } from '../support/prometheus-text.ts';
import { Fixture, fixtureFile } from '../support/records.ts';
import { serveRefusal, startServe, type ServeHandle } from '../support/serve.ts';
import { createTestPki, type TestPki } from '../support/tls.ts';

const PROD = ['prod-token-1f0e3a9c5b7d2e84', 'prod-next-token-6a2b9c0d1e3f4a5b'];
const STAGING = 'staging-token-8d7c6b5a4f3e2d1c';
const LEGACY = 'legacy-token-0a1b2c3d4e5f6a7b';

const lines = fixtureFile(Fixture.Metadata);
type Stored = { auditID: string; stage: string; annotations?: Record<string, string> };
const keyOf = (event: Stored): string => `${event.auditID}/${event.stage}`;

/** Fixture events, each claiming `claim` as its cluster (or carrying no claim). */
function claiming(from: number, count: number, claim: string | undefined): string[] {
  assert.ok(from + count <= lines.length, 'the fixture has fewer events than the test uses');
  return lines.slice(from, from + count).map((line) => {
    const event = JSON.parse(line) as Stored;
    if (claim !== undefined) event.annotations = { ...event.annotations, [Annotation.Cluster]: claim };
    return JSON.stringify(event);
  });
}

const clusterOf = (server: ServeHandle): Map<string, string | undefined> =>
  new Map(
    server
      .stdout()
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Stored)
      .map((event) => [keyOf(event), event.annotations?.[Annotation.Cluster]]),
  );

let pki: TestPki;
let ca: string;
before(() => {
  pki = createTestPki();
  ca = pki.read(pki.caCert);
  writeFileSync(join(pki.dir, 'tokens'), `# two lines for prod while rotating\n${PROD[0]} prod-eu-1\n${PROD[1]} prod-eu-1\n${STAGING} staging\n${LEGACY}\n`);
  writeFileSync(join(pki.dir, 'basic'), 'edge-apiserver:edge-passw0rd-9f8e edge-1\n');
});

describe('two clusters on one relay, by token', () => {
  let server: ServeHandle;
  before(async () => {
    server = await startServe(['--tls-cert', pki.serverCert, '--tls-key', pki.serverKey, '--token-file', join(pki.dir, 'tokens'), '--basic-auth-file', join(pki.dir, 'basic'), '--auth-mode', 'token+basic', '--cluster', 'default-cluster']);
  });
  after(() => server.stop());

  test('each event lands with the cluster its credential names, whatever annotation it carried', async () => {
    const batches: [string, string[], string][] = [
      [`Bearer ${PROD[0]}`, claiming(0, 3, undefined), 'prod-eu-1'],
      [`Bearer ${PROD[1]}`, claiming(3, 2, 'prod-eu-1'), 'prod-eu-1'],
      [`Bearer ${STAGING}`, claiming(5, 3, 'prod-eu-1'), 'staging'],
      [`Bearer ${PROD[0]}`, claiming(8, 2, 'staging'), 'prod-eu-1'],
      [`Basic ${Buffer.from('edge-apiserver:edge-passw0rd-9f8e').toString('base64')}`, claiming(10, 2, 'prod-eu-1'), 'edge-1'],
      // The old one-word line keeps meaning CLUSTER_NAME, and a claim is overwritten with it too.
      [`Bearer ${LEGACY}`, [...claiming(12, 1, undefined), ...claiming(13, 1, 'staging')], 'default-cluster'],
    ];
    const expected = new Map<string, string>();
    for (const [authorization, batch, cluster] of batches) {
      const answer = await send(server.url, eventList(batch), { ca, headers: { authorization } });
      assert.equal(answer.status, 200, answer.body);
      assert.equal((JSON.parse(answer.body) as { cluster: string }).cluster, cluster);
      for (const line of batch) expected.set(keyOf(JSON.parse(line) as Stored), cluster);
    }
    assert.deepEqual(clusterOf(server), expected);

    const logged = server.logs().filter((entry) => entry.status === 200);
    assert.deepEqual(
      logged.map((entry) => [entry.cluster, entry.spoofed]),
      [['prod-eu-1', 0], ['prod-eu-1', 0], ['staging', 3], ['prod-eu-1', 2], ['edge-1', 2], ['default-cluster', 1]],
    );
    const spoofLine = logged[2]!;
    assert.match(String(spoofLine.msg), /3 claimed another cluster than staging \(kube-audit-relay\.io\/cluster overwritten\)/);
    // The log says how many and whose credential, never what the events said.
    const text = JSON.stringify(logged);
    for (const line of batches[2]![1]) assert.ok(!text.includes((JSON.parse(line) as Stored).auditID));
  });

  test('/metrics counts each cluster apart, with the age of its last event', async () => {
    const scrape = await send(server.url, undefined, { method: 'GET', path: '/metrics', ca });
    assert.equal(scrape.status, 200);
    const metrics = parseExposition(scrape.body);
    const received = { 'prod-eu-1': 3 + 2 + 2, staging: 3, 'edge-1': 2, 'default-cluster': 2 };
    for (const [cluster, events] of Object.entries(received)) {
      assert.equal(metrics.value('kube_audit_relay_events_received_total', { cluster }), events, cluster);
      assert.equal(metrics.value('kube_audit_relay_events_spoofed_total', { cluster }), { 'prod-eu-1': 2, staging: 3, 'edge-1': 2, 'default-cluster': 1 }[cluster], cluster);
      const age = metrics.value('kube_audit_relay_last_event_age_seconds', { cluster });
      // Seconds since this test file's batches: generous, as a loaded machine can take long between the two tests.
      assert.ok(age !== undefined && age >= 0 && age < 120, `${cluster}: ${age}`);
    }
    assert.equal(metrics.types.get('kube_audit_relay_last_event_age_seconds'), 'gauge');
  });

  test('an unknown token gets 401 and nothing is written', async () => {
    const before = server.stdout();
    const answer = await send(server.url, eventList(claiming(20, 2, 'prod-eu-1')), { ca, headers: { authorization: 'Bearer third-cluster-token-00000000' } });
    assert.equal(answer.status, 401, answer.body);
    assert.equal(server.stdout(), before);
  });
});

describe('the cluster from the client certificate (mTLS)', () => {
  let server: ServeHandle;
  before(async () => {
    server = await startServe(['--tls-cert', pki.serverCert, '--tls-key', pki.serverKey, '--client-ca', pki.caCert, '--client-cert-cluster', 'CN']);
  });
  after(() => server.stop());

  test("the certificate's CN names the cluster, overwriting the claim", async () => {
    const batch = claiming(20, 2, 'prod-eu-1');
    const answer = await send(server.url, eventList(batch), { ca, cert: pki.read(pki.clientCert), key: pki.read(pki.clientKey) });
    assert.equal(answer.status, 200, answer.body);
    assert.deepEqual([...clusterOf(server).values()], ['kube-apiserver-audit', 'kube-apiserver-audit']);
    assert.equal((JSON.parse(answer.body) as { spoofed: number }).spoofed, 2);
  });
});

describe("--output per cluster: a file per cluster ('audit-{cluster}.jsonl'), a stream per cluster (cloudwatch://)", () => {
  test("each cluster's events go to its own file, whatever cluster they claimed", async () => {
    // arrange
    const dir = join(pki.dir, 'per-cluster');
    mkdirSync(dir);
    const server = await startServe(['--tls-cert', pki.serverCert, '--tls-key', pki.serverKey, '--token-file', join(pki.dir, 'tokens'), '--cluster', 'default-cluster', '--output', join(dir, 'audit-{cluster}.jsonl')]);
    try {
      // act
      const sent: [string, string[]][] = [
        [PROD[0]!, claiming(0, 4, 'staging')],
        [STAGING, claiming(4, 3, undefined)],
        [PROD[1]!, claiming(7, 2, undefined)],
        [LEGACY, claiming(9, 1, 'prod-eu-1')],
      ];
      for (const [token, batch] of sent) {
        const answer = await send(server.url, eventList(batch), { ca, headers: { authorization: `Bearer ${token}` } });
        assert.equal(answer.status, 200, answer.body);
      }

      // assert
      assert.deepEqual(readdirSync(dir).sort(), ['audit-default-cluster.jsonl', 'audit-prod-eu-1.jsonl', 'audit-staging.jsonl']);
      const auditIDs = (file: string) => readFileSync(join(dir, file), 'utf8').trim().split('\n').map((line) => keyOf(JSON.parse(line) as Stored));
      const ids = (batches: string[][]) => batches.flat().map((line) => keyOf(JSON.parse(line) as Stored));
      assert.deepEqual(auditIDs('audit-prod-eu-1.jsonl'), ids([sent[0]![1], sent[2]![1]]));
      assert.deepEqual(auditIDs('audit-staging.jsonl'), ids([sent[1]![1]]));
      assert.deepEqual(auditIDs('audit-default-cluster.jsonl'), ids([sent[3]![1]]));
      for (const file of readdirSync(dir)) {
        const cluster = /^audit-(.*)\.jsonl$/.exec(file)![1];
        for (const line of readFileSync(join(dir, file), 'utf8').trim().split('\n')) assert.equal((JSON.parse(line) as Stored).annotations?.[Annotation.Cluster], cluster);
      }
    } finally {
      await server.stop();
    }
  });

  test("a cloudwatch:// output writes each cluster's events to streams named after it", async () => {
    // arrange: the SDK finds the stand-in through its standard variables, as it would find CloudWatch Logs
    const logs = await startCloudWatchLogsStandIn({ seed: 31 });
    const group = '/kube-audit-relay/fleet/audit';
    logs.createLogGroup(group);
    const sdk = { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'AKIDSTANDIN', AWS_SECRET_ACCESS_KEY: 'stand-in-secret', AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: logs.endpoint };
    const saved = Object.fromEntries(Object.keys(sdk).map((name) => [name, process.env[name]]));
    Object.assign(process.env, sdk);
    const server = await startServe(['--tls-cert', pki.serverCert, '--tls-key', pki.serverKey, '--token-file', join(pki.dir, 'tokens'), '--cluster', 'default-cluster', '--output', `cloudwatch://${group}`]);
    try {
      // act
      const sent: [string, string[]][] = [
        [PROD[0]!, claiming(0, 3, 'staging')],
        [STAGING, claiming(3, 2, 'prod-eu-1')],
        [LEGACY, claiming(5, 1, 'prod-eu-1')],
      ];
      for (const [token, batch] of sent) {
        const answer = await send(server.url, eventList(batch), { ca, headers: { authorization: `Bearer ${token}` } });
        assert.equal(answer.status, 200, answer.body);
      }

      // assert
      const streams = Object.fromEntries(
        logs.streams(group).map((stream) => [stream.replace(/-[0-9a-f]{32}$/, ''), logs.events(group, stream).map((event) => keyOf(JSON.parse(event.message) as Stored)).sort()]),
      );
      const ids = (batch: string[]) => batch.map((line) => keyOf(JSON.parse(line) as Stored)).sort();
      assert.deepEqual(streams, {
        'kube-apiserver-audit-prod-eu-1': ids(sent[0]![1]),
        'kube-apiserver-audit-staging': ids(sent[1]![1]),
        'kube-apiserver-audit-default-cluster': ids(sent[2]![1]),
      });
    } finally {
      await server.stop();
      await logs.close();
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  test('refused at start when a caller could have no cluster to name its file', async () => {
    const refusal = await serveRefusal(['--tls-cert', pki.serverCert, '--tls-key', pki.serverKey, '--token-file', join(pki.dir, 'tokens'), '--output', join(pki.dir, 'audit-{cluster}.jsonl')]);
    assert.equal(refusal.code, 2);
    assert.match(refusal.stderr, /--output \(OUTPUTS\): has \{cluster\}, but 1 credential line\(s\) name no cluster and --cluster \(CLUSTER_NAME\) is not set/);
    const missing = await serveRefusal(['--cluster', 'prod', '--output', join(pki.dir, 'no-such-dir', 'audit-{cluster}.jsonl')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--output \(OUTPUTS\): the directory .*no-such-dir is not writable \(ENOENT\)/);
  });
});
