// Several clusters on one Lambda: the SSM token parameter names each token's cluster, and every invocation's
// metrics (EMF) carry the caller's cluster as dimension Cluster; CLUSTER_NAME only for tokens that name none and for
// refusals, where no caller is known. Real SDKs against the local stand-ins.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startCloudWatchLogsStandIn, type CloudWatchLogsStandIn } from '../../tools/dev/cloudwatch-logs-standin.ts';
import { eventList } from '../support/http-client.ts';
import { captureOutput, coldStart, lambdaContext, proxyEvent, type OutputLine } from '../support/lambda.ts';
import { useEnvironment } from '../support/lambda-environment.ts';
import { fixtureRecords } from '../support/records.ts';
import { startSsmStandIn, type SsmStandIn } from '../support/ssm-standin.ts';

const PROD = '5b4a3c2d1e0f98877665544332211000';
const STAGING = '0011223344556677889900aabbccddee';
const LEGACY = 'ffeeddccbbaa99887766554433221100';
const TOKEN_PARAMETER = '/kube-audit-relay/fleet/webhook-tokens';

/** The Cluster dimension of each EMF document with EventsReceived, in order. */
const clusters = (lines: readonly OutputLine[]): (string | undefined)[] =>
  lines.filter((line) => line._aws !== undefined && 'EventsReceived' in line).map((line) => line.Cluster as string | undefined);

describe('aws lambda handler for a fleet', () => {
  let logs: CloudWatchLogsStandIn;
  let ssm: SsmStandIn;
  before(async () => {
    logs = await startCloudWatchLogsStandIn({ seed: 5 });
    ssm = await startSsmStandIn();
    ssm.putParameter(TOKEN_PARAMETER, `${PROD} prod-eu-1\n${STAGING} staging\n${LEGACY}\n`);
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
});
