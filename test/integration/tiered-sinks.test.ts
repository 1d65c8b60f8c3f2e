// Tier routing through the real SDKs: the pipeline's tiered sink sends hot events to the hot CloudWatch log group and
// cold ones to the Infrequent Access group (created with that class when missing), and on Azure to two DCR streams;
// events routed to drop are counted as filtered. Everything runs against the local stand-ins.
import assert from 'node:assert/strict';
import { DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import type { PipelineConfig } from '../../src/config.ts';
import { createPipeline } from '../../src/pipeline.ts';
import { createAzureMonitorSink } from '../../src/sinks/azure-monitor.ts';
import { createCloudWatchSink } from '../../src/sinks/cloudwatch.ts';
import type { Sink } from '../../src/sinks/sink.ts';
import { createTieredSink } from '../../src/sinks/tiered.ts';
import type { TierRouting } from '../../src/tiers/tier-rule.ts';
import { type CloudWatchLogsStandIn, startCloudWatchLogsStandIn } from '../../tools/dev/cloudwatch-logs-standin.ts';
import { type AzureStandIns, RULE_ID, startAzureStandIns } from '../support/azure-monitor.ts';
import { standInClient } from '../support/cloudwatch-client.ts';
import { eventList } from '../support/event-lists.ts';

const ROUTING = Object.freeze({
  default: 'cold',
  archive: 'never',
  rules: parse(`
    - {tier: cold, stages: [RequestReceived]}
    - {tier: drop, nonResourceURLs: ['/healthz*']}
    - {tier: hot, verbs: [create, update, patch, delete]}
  `),
}) as TierRouting;

const CONFIG: PipelineConfig = {
  maxBodyBytes: 10_000_000,
  maxEventBytes: 1_048_576,
  sinkTimeoutMs: 10_000,
  auth: { mode: 'none' },
  redaction: { secrets: true, paths: [] },
  dropRules: [],
};

const event = (auditID: string, stage: string, verb: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'Metadata',
    auditID,
    stage,
    requestURI: '/api/v1/namespaces/shop/configmaps',
    verb,
    user: { username: 'alice@example.com', groups: ['system:authenticated'] },
    objectRef: { resource: 'configmaps', namespace: 'shop', name: 'web', apiVersion: 'v1' },
    responseStatus: { code: 200 },
    requestReceivedTimestamp: new Date().toISOString().replace('Z', '000Z'),
    stageTimestamp: new Date().toISOString().replace('Z', '000Z'),
    ...extra,
  });

const BATCH = eventList([
  event('create-1', 'ResponseComplete', 'create'),
  event('create-1', 'RequestReceived', 'create'),
  event('patch-1', 'ResponseComplete', 'patch'),
  event('get-1', 'ResponseComplete', 'get'),
  event('health-1', 'ResponseComplete', 'get', { requestURI: '/healthz', objectRef: undefined }),
  event('delete-1', 'ResponseComplete', 'delete'),
]);
const HOT = ['create-1/ResponseComplete', 'delete-1/ResponseComplete', 'patch-1/ResponseComplete'];
const COLD = ['create-1/RequestReceived', 'get-1/ResponseComplete'];

const keysOf = (messages: readonly string[]) => messages.map((message) => { const e = JSON.parse(message); return `${e.auditID}/${e.stage}`; }).sort();

async function post(sink: Sink) {
  const pipeline = createPipeline({ config: CONFIG, sink });
  return pipeline.receive({ method: 'POST', path: '/', headers: {}, body: Buffer.from(BATCH) });
}

describe('tiered sink over CloudWatch Logs', () => {
  let standIn: CloudWatchLogsStandIn;
  before(async () => {
    standIn = await startCloudWatchLogsStandIn({ seed: 3 });
  });
  after(() => standIn.close());

  it('stores hot events in the hot group and cold ones in the Infrequent Access group', async () => {
    const client = standInClient(standIn.endpoint);
    standIn.createLogGroup('/aws/eks/demo/cluster');
    const sink = createTieredSink({
      routing: ROUTING,
      sinks: {
        hot: createCloudWatchSink({ client, logGroupName: '/aws/eks/demo/cluster' }),
        // Not created beforehand: the sink creates it, with its class.
        cold: createCloudWatchSink({ client, logGroupName: '/aws/eks/demo/cold', logGroupClass: 'INFREQUENT_ACCESS' }),
      },
    });
    const result = await post(sink);
    assert.equal(result.status, 200, result.message);
    assert.equal(result.message, 'stored 5 of 6 events (1 filtered)');
    const stored = (group: string) => keysOf(standIn.streams(group).flatMap((stream) => standIn.events(group, stream).map((e) => e.message)));
    assert.deepEqual(stored('/aws/eks/demo/cluster'), HOT);
    assert.deepEqual(stored('/aws/eks/demo/cold'), COLD);
    const { logGroups } = await client.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/aws/eks/demo/' }));
    assert.deepEqual(
      logGroups?.map((group) => [group.logGroupName, group.logGroupClass]).sort(),
      [['/aws/eks/demo/cluster', 'STANDARD'], ['/aws/eks/demo/cold', 'INFREQUENT_ACCESS']],
    );
    client.destroy();
  });

  it('refuses a routing that reaches a tier without a destination, naming the setting', () => {
    const client = standInClient(standIn.endpoint);
    assert.throws(
      () => createTieredSink({ routing: ROUTING, sinks: { hot: createCloudWatchSink({ client, logGroupName: 'x' }) }, settings: { cold: 'COLD_LOG_GROUP_NAME' } }),
      /sends events to cold, but no cold destination is configured \(COLD_LOG_GROUP_NAME\)/,
    );
    client.destroy();
  });
});

describe('tiered sink over Azure Monitor Logs', () => {
  let azure: AzureStandIns;
  before(async () => {
    azure = await startAzureStandIns(5, ['Custom-KubeAudit', 'Custom-KubeAuditCold']);
  });
  after(() => azure.close());

  it('stores hot rows in the Analytics stream and cold rows in the cold stream', async () => {
    const stream = (streamName: string) =>
      createAzureMonitorSink({ endpoint: azure.ingestion.endpoint, credential: azure.credential, ruleId: RULE_ID, streamName, clientOptions: { tlsOptions: { ca: azure.ingestion.ca } } });
    const sink = createTieredSink({ routing: ROUTING, sinks: { hot: stream('Custom-KubeAudit'), cold: stream('Custom-KubeAuditCold') } });
    const result = await post(sink);
    assert.equal(result.status, 200, result.message);
    assert.equal(result.message, 'stored 5 of 6 events (1 filtered)');
    const rows = (name: string) => azure.ingestion.rows(name).map((row) => `${row.AuditId}/${row.Stage}`).sort();
    assert.deepEqual(rows('Custom-KubeAudit'), HOT);
    assert.deepEqual(rows('Custom-KubeAuditCold'), COLD);
  });
});
