// Several clusters on one Lambda: the SSM token parameter names each token's cluster, and every invocation's
// metrics (EMF) carry the caller's cluster as dimension Cluster; CLUSTER_NAME only for tokens that name none and for
// refusals, where no caller is known. Each cluster's events land in streams of their own, and with a templated
// LOG_GROUP_NAME in the cluster's own group, whatever cluster the events claimed. Real SDKs against the local stand-ins.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startCloudWatchLogsStandIn, type CloudWatchLogsStandIn } from '../../tools/dev/cloudwatch-logs-standin.ts';
import { Annotation } from '../../src/index.ts';
import { eventList } from '../support/http-client.ts';
import { captureOutput, coldStart, lambdaContext, proxyEvent, type OutputLine } from '../support/lambda.ts';
import { useEnvironment } from '../support/lambda-environment.ts';
import { fixtureRecords } from '../support/records.ts';
import { startSsmStandIn, type SsmStandIn } from '../support/ssm-standin.ts';

const PROD = '5b4a3c2d1e0f98877665544332211000';
const STAGING = '0011223344556677889900aabbccddee';
const LEGACY = 'ffeeddccbbaa99887766554433221100';
const TOKEN_PARAMETER = '/kube-audit-relay/fleet/webhook-tokens';
/** A cluster whose token is accepted but for which the stack made no group. */
const UNLISTED = '99887766554433221100ffeeddccbbaa';

/** Three events, each claiming to come from `claimed`: the relay must store them under the caller's cluster. */
function claiming(records: readonly { json: string }[], claimed: string): string {
  return eventList(
    records.map(({ json }) => {
      const event = JSON.parse(json) as { annotations?: Record<string, string> };
      return JSON.stringify({ ...event, annotations: { ...event.annotations, [Annotation.Cluster]: claimed } });
    }),
  );
}

/** The auditIDs (sorted) and the cluster annotations of the events in a group, by stream. */
function stored(logs: CloudWatchLogsStandIn, group: string): Record<string, { auditIDs: string[]; clusters: string[] }> {
  return Object.fromEntries(
    logs.streams(group).map((stream) => {
      const events = logs.events(group, stream).map((event) => JSON.parse(event.message) as { auditID: string; annotations: Record<string, string> });
      return [stream, { auditIDs: events.map((event) => event.auditID).sort(), clusters: [...new Set(events.map((event) => event.annotations[Annotation.Cluster]!))] }];
    }),
  );
}

/** Sorted: a stream holds its events in timestamp order. */
const auditIDs = (records: readonly { auditID: string }[]): string[] => records.map((record) => record.auditID).sort();

/** The Cluster dimension of each EMF document with EventsReceived, in order. */
const clusters = (lines: readonly OutputLine[]): (string | undefined)[] =>
  lines.filter((line) => line._aws !== undefined && 'EventsReceived' in line).map((line) => line.Cluster as string | undefined);

describe('aws lambda handler for a fleet', () => {
  let logs: CloudWatchLogsStandIn;
  let ssm: SsmStandIn;
  before(async () => {
    logs = await startCloudWatchLogsStandIn({ seed: 5 });
    ssm = await startSsmStandIn();
    ssm.putParameter(TOKEN_PARAMETER, `${PROD} prod-eu-1\n${STAGING} staging\n${LEGACY}\n${UNLISTED} unlisted\n`);
  });
  after(async () => {
    await logs.close();
    await ssm.close();
  });

  it("publishes every invocation's metrics with the caller's cluster as dimension Cluster", async () => {
    // arrange
    const group = '/aws/eks/fleet/cluster';
    logs.createLogGroup(group);
    useEnvironment({ cloudWatchLogs: logs.endpoint, ssm: ssm.endpoint }, { LOG_GROUP_NAME: group, AUTH_TOKEN_PARAMETER: TOKEN_PARAMETER, CLUSTER_NAME: 'default-cluster' });
    const handler = await coldStart();
    const records = fixtureRecords();
    const list = (from: number) => eventList(records.slice(from, from + 3).map((record) => record.json));

    // act
    const { value: answers, lines } = await captureOutput(async () => [
      await handler(proxyEvent({ body: list(0), token: PROD }), lambdaContext()),
      await handler(proxyEvent({ body: list(3), token: STAGING }), lambdaContext()),
      await handler(proxyEvent({ body: list(6), token: LEGACY }), lambdaContext()),
      await handler(proxyEvent({ body: list(9), token: 'unknown-token-00000000000000000000' }), lambdaContext()),
    ]);

    // assert
    assert.deepEqual(answers.map((answer) => answer.statusCode), [200, 200, 200, 401]);
    assert.deepEqual(clusters(lines), ['prod-eu-1', 'staging', 'default-cluster', 'default-cluster']);
    const stored = lines.filter((line) => line.message === 'batch stored');
    assert.deepEqual(stored.map((line) => line.cluster), ['prod-eu-1', 'staging', 'default-cluster']);
  });

  it("writes each cluster's events to streams named after it in one group, whatever cluster they claimed", async () => {
    // arrange
    const group = '/kube-audit-relay/fleet/audit';
    logs.createLogGroup(group);
    useEnvironment({ cloudWatchLogs: logs.endpoint, ssm: ssm.endpoint }, { LOG_GROUP_NAME: group, AUTH_TOKEN_PARAMETER: TOKEN_PARAMETER, CLUSTER_NAME: 'default-cluster' });
    const handler = await coldStart();
    const records = fixtureRecords();

    // act: each cluster's events claim to be the other's; the legacy token's claim to be prod-eu-1
    const answers = await captureOutput(async () => [
      await handler(proxyEvent({ body: claiming(records.slice(0, 3), 'staging'), token: PROD }), lambdaContext()),
      await handler(proxyEvent({ body: claiming(records.slice(3, 6), 'prod-eu-1'), token: STAGING }), lambdaContext()),
      await handler(proxyEvent({ body: claiming(records.slice(6, 9), 'prod-eu-1'), token: LEGACY }), lambdaContext()),
    ]);

    // assert
    assert.deepEqual(answers.value.map((answer) => answer.statusCode), [200, 200, 200]);
    const streams = stored(logs, group);
    const byPrefix = (prefix: string) => Object.entries(streams).filter(([name]) => new RegExp(`^kube-apiserver-audit-${prefix}-[0-9a-f]{32}$`).test(name)).map(([, content]) => content);
    assert.equal(Object.keys(streams).length, 3, Object.keys(streams).join(', '));
    assert.deepEqual(byPrefix('prod-eu-1'), [{ auditIDs: auditIDs(records.slice(0, 3)), clusters: ['prod-eu-1'] }]);
    assert.deepEqual(byPrefix('staging'), [{ auditIDs: auditIDs(records.slice(3, 6)), clusters: ['staging'] }]);
    assert.deepEqual(byPrefix('default-cluster'), [{ auditIDs: auditIDs(records.slice(6, 9)), clusters: ['default-cluster'] }]);
  });

  it("writes each cluster's events to its own group with LOG_GROUP_NAME /aws/eks/{cluster}/cluster, and creates no group", async () => {
    // arrange: the stack made the groups of the clusters it knows, none for `unlisted`
    for (const cluster of ['prod-eu-1', 'staging', 'default-cluster']) logs.createLogGroup(`/aws/eks/${cluster}/cluster`);
    useEnvironment({ cloudWatchLogs: logs.endpoint, ssm: ssm.endpoint }, { LOG_GROUP_NAME: '/aws/eks/{cluster}/cluster', AUTH_TOKEN_PARAMETER: TOKEN_PARAMETER, CLUSTER_NAME: 'default-cluster' });
    const handler = await coldStart();
    const records = fixtureRecords();
    const createdBefore = logs.calls.get('CreateLogGroup') ?? 0;

    // act
    const { value: answers, lines } = await captureOutput(async () => [
      await handler(proxyEvent({ body: claiming(records.slice(0, 3), 'staging'), token: PROD }), lambdaContext()),
      await handler(proxyEvent({ body: claiming(records.slice(3, 6), 'prod-eu-1'), token: STAGING }), lambdaContext()),
      await handler(proxyEvent({ body: claiming(records.slice(6, 9), 'staging'), token: LEGACY }), lambdaContext()),
      await handler(proxyEvent({ body: claiming(records.slice(9, 12), 'prod-eu-1'), token: UNLISTED }), lambdaContext()),
    ]);

    // assert: every event in its caller's group, in a stream named after it, stamped with it
    assert.deepEqual(answers.map((answer) => answer.statusCode), [200, 200, 200, 503]);
    const expected = { 'prod-eu-1': records.slice(0, 3), staging: records.slice(3, 6), 'default-cluster': records.slice(6, 9) };
    for (const [cluster, sent] of Object.entries(expected)) {
      const streams = Object.entries(stored(logs, `/aws/eks/${cluster}/cluster`));
      assert.equal(streams.length, 1, `${cluster}: ${streams.map(([name]) => name).join(', ')}`);
      assert.match(streams[0]![0], new RegExp(`^kube-apiserver-audit-${cluster}-[0-9a-f]{32}$`));
      assert.deepEqual(streams[0]![1], { auditIDs: auditIDs(sent), clusters: [cluster] });
    }
    // The unlisted cluster's batch fails (the API server retries it) instead of creating a group the stack does not
    // encrypt, keep or alarm on; the answer names the group.
    assert.equal(logs.calls.get('CreateLogGroup') ?? 0, createdBefore);
    assert.match(JSON.parse(answers[3]!.body).message, /\/aws\/eks\/unlisted\/cluster/);
    assert.equal(lines.find((line) => line.message === 'batch not stored')?.cluster, 'unlisted');
  });

  it('refuses to start with a templated LOG_GROUP_NAME when a token names no cluster and CLUSTER_NAME is not set', async () => {
    // arrange
    useEnvironment({ cloudWatchLogs: logs.endpoint, ssm: ssm.endpoint }, { LOG_GROUP_NAME: '/aws/eks/{cluster}/cluster', AUTH_TOKEN_PARAMETER: TOKEN_PARAMETER });
    const handler = await coldStart();

    // act
    const { value: answer } = await captureOutput(() => handler(proxyEvent({ body: eventList([]), token: PROD }), lambdaContext()));

    // assert
    assert.equal(answer.statusCode, 500);
    assert.match(JSON.parse(answer.body).message, /LOG_GROUP_NAME: has \{cluster\}, but 1 credential line\(s\) name no cluster and CLUSTER_NAME is not set/);
  });
});
