// `serverless offline` (what `npm run dev` starts) serving the real handler on loopback, writing to the CloudWatch
// Logs stand-in and reading its token from the SSM stand-in through the SDK's standard endpoint variables.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Annotation } from '../../src/audit/annotations.ts';
import type { AuditEvent } from '../../src/audit/types.ts';
import { readStream, standInClient } from '../support/cloudwatch-client.ts';
import { type CloudWatchLogsStandIn, startCloudWatchLogsStandIn } from '../../tools/dev/cloudwatch-logs-standin.ts';
import { eventList, send } from '../support/http-client.ts';
import { repeatedLines } from '../support/event-lists.ts';
import { offlineEnvironment, type OfflineHandle, startOffline } from '../support/serverless.ts';
import { type SsmStandIn, startSsmStandIn } from '../support/ssm-standin.ts';

const TOKEN = '7d0c9e1f2a3b4c5d6e7f8091a2b3c4d5';
const TOKEN_PARAMETER = '/kube-audit-relay/local/auth-token';
const LOG_GROUP = '/kube-audit-relay/dev-cluster/audit';
const BATCH = 400;

/** 400 fixture events, each with its own auditID: one batch as the API server sends it at its default batch size. */
const batchLines = repeatedLines(BATCH);

const keyOf = (event: Pick<AuditEvent, 'auditID' | 'stage'>) => `${event.auditID}/${event.stage}`;

describe('serverless offline', () => {
  let cloudWatch: CloudWatchLogsStandIn;
  let ssm: SsmStandIn;
  let offline: OfflineHandle;

  before(async () => {
    assert.equal(batchLines.length, BATCH);
    cloudWatch = await startCloudWatchLogsStandIn();
    cloudWatch.createLogGroup(LOG_GROUP, 365);
    ssm = await startSsmStandIn();
    ssm.putParameter(TOKEN_PARAMETER, TOKEN, 'SecureString');
    offline = await startOffline(
      'local',
      { VPC_ENDPOINT_IDS: 'vpce-0123456789abcdef0', CLUSTER_NAME: 'dev-cluster', AUTH_TOKEN_PARAMETER: TOKEN_PARAMETER },
      offlineEnvironment({ AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: cloudWatch.endpoint, AWS_ENDPOINT_URL_SSM: ssm.endpoint }),
    );
  });

  after(async () => {
    await offline?.stop();
    await cloudWatch?.close();
    await ssm?.close();
  });

  it('stores a 400-event fixture batch in the audit group, annotated with the cluster from the params', async () => {
    // act
    const answer = await send(offline.url, eventList(batchLines), { path: new URL(offline.url).pathname, headers: { authorization: `Bearer ${TOKEN}` } });

    // assert
    assert.equal(answer.status, 200, answer.body);
    const streams = cloudWatch.streams(LOG_GROUP);
    assert.equal(streams.length, 1);
    assert.match(streams[0]!, /^kube-apiserver-audit-dev-cluster-[0-9a-f]{32}$/, 'the stream carries CLUSTER_NAME');
    const stored = (await readStream(standInClient(cloudWatch.endpoint), LOG_GROUP, streams[0]!)).map((message) => JSON.parse(message) as AuditEvent);
    // A line repeated in the corpus is one event to the relay: it stores it once.
    const sent = [...new Set(batchLines)].map((line) => JSON.parse(line) as AuditEvent);
    assert.deepEqual(stored.map(keyOf).sort(), sent.map(keyOf).sort());
    for (const event of stored) assert.equal(event.annotations?.[Annotation.Cluster], 'dev-cluster');
    assert.equal(ssm.calls.get('GetParameter'), 1);
  });

  it('refuses a batch without the token from the SSM parameter and stores nothing more', async () => {
    const callsBefore = cloudWatch.calls.get('PutLogEvents') ?? 0;
    const answer = await send(offline.url, eventList(batchLines.slice(0, 3)), { path: new URL(offline.url).pathname, headers: { authorization: 'Bearer not-the-token' } });
    assert.equal(answer.status, 401, answer.body);
    assert.equal(cloudWatch.calls.get('PutLogEvents') ?? 0, callsBefore);
  });

  it('made no connection other than to loopback', () => {
    assert.doesNotMatch(offline.output(), /deny-network/);
  });
});
