// The Lambda handler with OUTPUTS naming an S3 archive: every event in CloudWatch Logs (the stand-in) and in the
// archive (s3rver, a real S3-compatible server), once each across a failed archive write and the API server's retry.
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { readStream, standInClient } from '../support/cloudwatch-client.ts';
import { type CloudWatchLogsStandIn, startCloudWatchLogsStandIn } from '../../tools/dev/cloudwatch-logs-standin.ts';
import { generatedEvents } from '../support/apiserver-webhook.ts';
import { batches, fixtureLines } from '../support/event-lists.ts';
import { coldStart, lambdaContext, type ProxyHandler, proxyEvent } from '../support/lambda.ts';
import { useEnvironment } from '../support/lambda-environment.ts';
import { type ServerProcess, startS3rver } from '../support/server-process.ts';

const GROUP = '/aws/eks/archived/cluster';

describe('aws lambda handler with an S3 archive as a second guaranteed output', () => {
  let logs: CloudWatchLogsStandIn;
  let s3rver: ServerProcess;
  let s3: S3Client;
  let handler: ProxyHandler;

  before(async () => {
    logs = await startCloudWatchLogsStandIn({ seed: 5 });
    logs.createLogGroup(GROUP);
    s3rver = await startS3rver();
    s3 = new S3Client({ endpoint: s3rver.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    await s3.send(new CreateBucketCommand({ Bucket: 'audit-archive' }));
    useEnvironment(
      { cloudWatchLogs: logs.endpoint, ssm: 'http://127.0.0.1:9' },
      { LOG_GROUP_NAME: GROUP, AUTH_MODE: 'none', OUTPUTS: 's3://audit-archive/eks/', AWS_ENDPOINT_URL_S3: s3rver.endpoint, CLUSTER_NAME: 'prod', SINK_TIMEOUT_MS: '3000' },
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

  it('stores every event in both; a batch whose archive write failed is answered 503 and its retry stores nothing twice', async () => {
    const events = generatedEvents(fixtureLines(), 300, 3_600_000);
    const [first, second, third] = batches(events, 100);
    const post = async (body: string) => handler(proxyEvent({ body }), lambdaContext());

    assert.equal((await post(first!)).statusCode, 200);
    // The bucket is briefly unreachable: CloudWatch stores the batch, the archive does not, the answer is 503.
    const { port } = new URL(s3rver.endpoint);
    await s3rver.stop({ keepData: true });
    const failed = await post(second!);
    assert.equal(failed.statusCode, 503);
    // The archive's own error when its retries give up before the deadline; on a loaded machine the last retry can
    // still be running at SINK_TIMEOUT_MS, and then the pipeline's deadline names the unfinished outputs instead.
    assert.match(failed.body, /s3 archive: 100 events not stored|s3-archive did not finish within SINK_TIMEOUT_MS/);
    s3rver = await startS3rver({ port: Number(port), dir: s3rver.dir });
    const retried = await post(second!);
    assert.equal(retried.statusCode, 200, retried.body);
    assert.equal((JSON.parse(retried.body) as { duplicates: number }).duplicates, 100, 'CloudWatch, the first output, had stored the batch');
    assert.equal((await post(third!)).statusCode, 200);

    const streams = logs.streams(GROUP);
    const inCloudWatch = (await Promise.all(streams.map((stream) => readStream(standInClient(logs.endpoint), GROUP, stream)))).flat();
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'audit-archive' }));
    const archived: string[] = [];
    for (const { Key } of listed.Contents ?? []) {
      assert.match(Key!, /^eks\/cluster=prod\/date=\d{4}-\d{2}-\d{2}\/hour=\d{2}\/[0-9a-f]{64}\.jsonl\.gz$/);
      const object = await s3.send(new GetObjectCommand({ Bucket: 'audit-archive', Key }));
      archived.push(...gunzipSync(await object.Body!.transformToByteArray()).toString('utf8').split('\n').slice(0, -1));
    }
    const ids = (lines: string[]) => lines.map((line) => (JSON.parse(line) as { auditID: string }).auditID).sort();
    const expected = events.map((line) => (JSON.parse(line) as { auditID: string }).auditID).sort();
    assert.deepEqual(ids(inCloudWatch), expected, 'CloudWatch holds every event once');
    assert.deepEqual(ids(archived), expected, 'the archive holds every event once');
  });
});
