// The Lambda handler with tier routing and an S3 archive in OUTPUTS, both at once: hot events in the hot group, cold
// ones in the Infrequent Access group, events routed to drop counted as filtered and kept out of CloudWatch, and the
// archive, a guaranteed output of its own, holding every event. The API server's retry of the same batch stores
// nothing twice and counts the drops again. CloudWatch is the stand-in, the archive s3rver.
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { readStream, standInClient } from '../support/cloudwatch-client.ts';
import { type CloudWatchLogsStandIn, startCloudWatchLogsStandIn } from '../../tools/dev/cloudwatch-logs-standin.ts';
import { eventList } from '../support/event-lists.ts';
import { coldStart, lambdaContext, type ProxyHandler, proxyEvent } from '../support/lambda.ts';
import { useEnvironment } from '../support/lambda-environment.ts';
import { type ServerProcess, startS3rver } from '../support/server-process.ts';

const HOT = '/aws/eks/tiered/cluster';
const COLD = '/aws/eks/tiered/cold';
const TIERS = '{default: cold, rules: [{tier: drop, verbs: [watch]}, {tier: hot, verbs: [create, delete]}]}';

const event = (auditID: string, verb: string): string => {
  const now = new Date().toISOString().replace('Z', '000Z');
  return JSON.stringify({
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'Metadata',
    auditID,
    stage: 'ResponseComplete',
    requestURI: '/api/v1/namespaces/shop/configmaps',
    verb,
    user: { username: 'alice@example.com', groups: ['system:authenticated'] },
    objectRef: { resource: 'configmaps', namespace: 'shop', name: 'web', apiVersion: 'v1' },
    responseStatus: { code: 200 },
    requestReceivedTimestamp: now,
    stageTimestamp: now,
  });
};

describe('aws lambda handler with tiers and an S3 archive', () => {
  let logs: CloudWatchLogsStandIn;
  let s3rver: ServerProcess;
  let s3: S3Client;
  let handler: ProxyHandler;

  before(async () => {
    logs = await startCloudWatchLogsStandIn({ seed: 7 });
    logs.createLogGroup(HOT);
    s3rver = await startS3rver();
    s3 = new S3Client({ endpoint: s3rver.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    await s3.send(new CreateBucketCommand({ Bucket: 'audit-archive' }));
    useEnvironment(
      { cloudWatchLogs: logs.endpoint, ssm: 'http://127.0.0.1:9' },
      { LOG_GROUP_NAME: HOT, COLD_LOG_GROUP_NAME: COLD, TIERS, AUTH_MODE: 'none', OUTPUTS: 's3://audit-archive/eks/', AWS_ENDPOINT_URL_S3: s3rver.endpoint, CLUSTER_NAME: 'prod', SINK_TIMEOUT_MS: '5000' },
    );
    // s3rver knows one access key; the CloudWatch Logs stand-in checks signatures, not who signed.
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' });
    handler = await coldStart();
  });
  after(async () => {
    useEnvironment({ cloudWatchLogs: '', ssm: '' }, {});
    s3?.destroy();
    await s3rver?.stop();
    await logs?.close();
  });

  it('routes each event to its tier, archives every event, and stores nothing twice on a retry', async () => {
    const body = eventList([event('create-1', 'create'), event('get-1', 'get'), event('watch-1', 'watch'), event('delete-1', 'delete'), event('list-1', 'list')]);
    const post = async () => handler(proxyEvent({ body }), lambdaContext());

    const first = await post();
    assert.equal(first.statusCode, 200, first.body);
    assert.equal((JSON.parse(first.body) as { message: string }).message, 'stored 4 of 5 events (1 filtered)');
    const retried = await post();
    assert.equal(retried.statusCode, 200, retried.body);
    const counts = JSON.parse(retried.body) as { written: number; duplicates: number; filtered: number };
    assert.deepEqual([counts.written, counts.duplicates, counts.filtered], [0, 4, 1], 'the retry finds every routed event stored and drops the watch again');

    const client = standInClient(logs.endpoint);
    const inGroup = async (group: string) => {
      const lines = (await Promise.all(logs.streams(group).map((stream) => readStream(client, group, stream)))).flat();
      return lines.map((line) => (JSON.parse(line) as { auditID: string }).auditID).sort();
    };
    assert.deepEqual(await inGroup(HOT), ['create-1', 'delete-1']);
    assert.deepEqual(await inGroup(COLD), ['get-1', 'list-1']);
    client.destroy();

    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'audit-archive' }));
    const archived: string[] = [];
    for (const { Key } of listed.Contents ?? []) {
      const object = await s3.send(new GetObjectCommand({ Bucket: 'audit-archive', Key }));
      archived.push(...gunzipSync(await object.Body!.transformToByteArray()).toString('utf8').split('\n').slice(0, -1));
    }
    const ids = archived.map((line) => (JSON.parse(line) as { auditID: string }).auditID).sort();
    assert.deepEqual(ids, ['create-1', 'delete-1', 'get-1', 'list-1', 'watch-1'], 'the archive holds every event once, whatever its tier');
  });
});
