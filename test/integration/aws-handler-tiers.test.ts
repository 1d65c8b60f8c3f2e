// The Lambda handler with tier routing and an S3 archive in OUTPUTS, through the real handler, the real SDKs, the
// CloudWatch Logs stand-in (which knows log group classes) and s3rver. With the shipped security preset, hot events
// go to the audit group, cold ones to the Infrequent Access group and archive ones only to the bucket. With a tiers
// file of `archive: always`, the bucket holds every stored event as well, events routed to drop stay out of both and
// are counted again on the API server's retry, and the retry stores nothing twice.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { standInClient } from '../support/cloudwatch-client.ts';
import { type CloudWatchLogsStandIn, startCloudWatchLogsStandIn } from '../../tools/dev/cloudwatch-logs-standin.ts';
import { eventList } from '../support/event-lists.ts';
import { coldStart, lambdaContext, type ProxyHandler, proxyEvent } from '../support/lambda.ts';
import { useEnvironment } from '../support/lambda-environment.ts';
import { type ServerProcess, startS3rver } from '../support/server-process.ts';
import { securitySample, tierEvent } from '../support/tier-events.ts';
import { auditIDsInBucket, auditIDsInGroup } from '../support/tier-stores.ts';

const HOT = '/aws/eks/tiered/cluster';
const COLD = '/aws/eks/tiered/cold';
const BUCKET = 'audit-archive';

describe('aws lambda handler with tiers and an S3 archive', () => {
  let logs: CloudWatchLogsStandIn;
  let s3rver: ServerProcess;
  let s3: S3Client;

  before(async () => {
    s3rver = await startS3rver();
    s3 = new S3Client({ endpoint: s3rver.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  });
  afterEach(async () => {
    await logs?.close();
  });
  after(async () => {
    useEnvironment({ cloudWatchLogs: '', ssm: '' }, {});
    s3?.destroy();
    await s3rver?.stop();
  });

  /** A fresh CloudWatch stand-in, bucket and handler cold start with these tier settings. */
  async function handlerWith(bucket: string, tiers: Record<string, string>): Promise<ProxyHandler> {
    logs = await startCloudWatchLogsStandIn({ seed: 7 });
    logs.createLogGroup(HOT);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    useEnvironment(
      { cloudWatchLogs: logs.endpoint, ssm: 'http://127.0.0.1:9' },
      { LOG_GROUP_NAME: HOT, COLD_LOG_GROUP_NAME: COLD, AUTH_MODE: 'none', OUTPUTS: `s3://${bucket}/eks/`, AWS_ENDPOINT_URL_S3: s3rver.endpoint, CLUSTER_NAME: 'prod', SINK_TIMEOUT_MS: '5000', ...tiers },
    );
    // s3rver knows one access key; the CloudWatch Logs stand-in checks signatures, not who signed.
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' });
    return coldStart();
  }

  const inGroup = (group: string): Promise<string[]> => auditIDsInGroup(logs, group);
  const inBucket = (bucket: string): Promise<string[]> => auditIDsInBucket(s3, bucket);

  it('with TIERS_PRESET=security: hot events in the audit group, cold ones in the Infrequent Access group, archive ones only in the bucket', async () => {
    const handler = await handlerWith('security-archive', { TIERS_PRESET: 'security' });
    const sample = securitySample();
    const body = eventList(sample.lines);
    const post = async () => handler(proxyEvent({ body }), lambdaContext());

    const first = await post();
    assert.equal(first.statusCode, 200, first.body);
    assert.equal((JSON.parse(first.body) as { written: number }).written, 7);
    const retried = await post();
    assert.equal(retried.statusCode, 200, retried.body);
    assert.equal((JSON.parse(retried.body) as { duplicates: number }).duplicates, 7, 'every tier had stored its events');

    assert.deepEqual(await inGroup(HOT), sample.hot);
    assert.deepEqual(await inGroup(COLD), sample.cold);
    assert.deepEqual(await inBucket('security-archive'), sample.archive, 'archive-only events, once each');
    const client = standInClient(logs.endpoint);
    try {
      const groups = await client.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/aws/eks/tiered/' }));
      assert.deepEqual(groups.logGroups?.map(({ logGroupName, logGroupClass }) => [logGroupName, logGroupClass]), [[HOT, 'STANDARD'], [COLD, 'INFREQUENT_ACCESS']]);
    } finally {
      client.destroy();
    }
  });

  it('with archive: always: every stored event also in the bucket, drops in neither and counted again on a retry', async () => {
    const handler = await handlerWith('always-archive', { TIERS: '{default: cold, archive: always, rules: [{tier: drop, verbs: [watch]}, {tier: hot, verbs: [create, delete]}]}' });
    const body = eventList([tierEvent('create-1', { verb: 'create' }), tierEvent('get-1', { verb: 'get' }), tierEvent('watch-1', { verb: 'watch' }), tierEvent('delete-1', { verb: 'delete' }), tierEvent('list-1', { verb: 'list' })]);
    const post = async () => handler(proxyEvent({ body }), lambdaContext());

    const first = await post();
    assert.equal(first.statusCode, 200, first.body);
    assert.equal((JSON.parse(first.body) as { message: string }).message, 'stored 4 of 5 events (1 filtered)');
    const retried = await post();
    assert.equal(retried.statusCode, 200, retried.body);
    const counts = JSON.parse(retried.body) as { written: number; duplicates: number; filtered: number };
    assert.deepEqual([counts.written, counts.duplicates, counts.filtered], [0, 4, 1], 'the retry finds every routed event stored and drops the watch again');

    assert.deepEqual(await inGroup(HOT), ['create-1', 'delete-1']);
    assert.deepEqual(await inGroup(COLD), ['get-1', 'list-1']);
    assert.deepEqual(await inBucket('always-archive'), ['create-1', 'delete-1', 'get-1', 'list-1'], 'the archive holds every stored event once, the dropped watch not');
  });
});
