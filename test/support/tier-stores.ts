// What each tier's store holds after the Lambda handler ran, read back through the real SDKs: the auditIDs in a log
// group of the CloudWatch Logs stand-in and in the gzip'd JSON-lines objects of an S3 bucket (s3rver), sorted.
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { CloudWatchLogsStandIn } from '../../tools/dev/cloudwatch-logs-standin.ts';
import { readStream, standInClient } from './cloudwatch-client.ts';

const auditIDs = (lines: readonly string[]): string[] => lines.map((line) => (JSON.parse(line) as { auditID: string }).auditID).sort();

/** The auditIDs of every event in every stream of `group`. */
export async function auditIDsInGroup(logs: CloudWatchLogsStandIn, group: string): Promise<string[]> {
  const client = standInClient(logs.endpoint);
  try {
    return auditIDs((await Promise.all(logs.streams(group).map((stream) => readStream(client, group, stream)))).flat());
  } finally {
    client.destroy();
  }
}

/** The auditIDs of every event in every object of `bucket`. */
export async function auditIDsInBucket(s3: S3Client, bucket: string): Promise<string[]> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  const lines: string[] = [];
  for (const { Key } of listed.Contents ?? []) {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key }));
    lines.push(...gunzipSync(await object.Body!.transformToByteArray()).toString('utf8').split('\n').slice(0, -1));
  }
  return auditIDs(lines);
}
