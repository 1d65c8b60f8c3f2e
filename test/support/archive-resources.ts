// Reading the archive resources of a packaged template (infra/aws/archive-*.cjs): the references to the created bucket
// resolved to a name, the Glue table's parameters as Athena sees them, and the keys the sink writes checked against
// its partition projection.
import assert from 'node:assert/strict';
import { archiveObject } from '../../src/sinks/archive-object.ts';
import { type LogRecord, recordWith } from '../../src/record.ts';
import { generatedEvents } from './apiserver-webhook.ts';
import { fixtureLines } from './event-lists.ts';
import { projectedPartition, type TableParameters } from './partition-projection.ts';
import { recordFromLine } from './records.ts';
import type { Template } from './serverless.ts';
import { only, type Statement } from './template.ts';

/**
 * A template value as text once deployed, with the created archive bucket (`Ref: ArchiveBucket`, `${ArchiveBucket}`)
 * named `bucketName`: plain strings, Fn::Sub and Fn::Join of those. Anything else is refused, so an unexpected form
 * fails the test instead of being compared as JSON.
 */
export function deployedText(value: unknown, bucketName: string): string {
  if (typeof value === 'string') return value;
  const object = value as Record<string, unknown>;
  if (object.Ref === 'ArchiveBucket') return bucketName;
  if (typeof object['Fn::Sub'] === 'string') return (object['Fn::Sub'] as string).replaceAll('${ArchiveBucket}', bucketName);
  const join = object['Fn::Join'] as [string, unknown[]] | undefined;
  if (join) return join[1].map((part) => deployedText(part, bucketName)).join(join[0]);
  throw new Error(`unexpected template value ${JSON.stringify(value)}`);
}

/** The function's environment as deployed, with the created archive bucket named `bucketName`. */
export function deployedVariables(template: Template, bucketName: string): Record<string, string> {
  const variables = only(template, 'AWS::Lambda::Function').Properties!.Environment.Variables as Record<string, unknown>;
  return Object.fromEntries(Object.entries(variables).map(([name, value]) => [name, deployedText(value, bucketName)]));
}

/** The archive table's parameters, with the bucket named. */
export function tableParameters(template: Template, bucketName: string): TableParameters {
  const parameters = template.Resources.ArchiveTable!.Properties!.TableInput.Parameters as Record<string, unknown>;
  return Object.fromEntries(Object.entries(parameters).map(([key, value]) => [key, deployedText(value, bucketName)]));
}

/** The bucket policy of `bucketId` denies every S3 action on the bucket and its objects to requests without TLS. */
export function assertTlsOnly(template: Template, bucketId: string): void {
  const policies = Object.values(template.Resources).filter((resource) => resource.Type === 'AWS::S3::BucketPolicy' && resource.Properties!.Bucket?.Ref === bucketId);
  assert.equal(policies.length, 1, `${bucketId} has no bucket policy`);
  const statements = policies[0]!.Properties!.PolicyDocument.Statement as Statement[];
  const deny = statements.find((statement) => statement.Effect === 'Deny' && statement.Condition?.Bool?.['aws:SecureTransport'] === 'false');
  assert.ok(deny, `${bucketId}'s policy does not deny aws:SecureTransport=false`);
  assert.equal(deny.Principal, '*');
  assert.equal(deny.Action, 's3:*');
  assert.deepEqual(deny.Resource, [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, { 'Fn::Sub': `\${${bucketId}.Arn}/*` }]);
}

/** Records of recent events (within the last hour), as the relay stamps them for `cluster`. */
export function recentRecords(cluster: string, count = 20): LogRecord[] {
  return generatedEvents(fixtureLines(), count, 3_600_000).map((line) => recordWith(recordFromLine(line), { cluster }));
}

/**
 * Renders a batch of each cluster with the sink's own archiveObject and checks that Athena's projection finds it in
 * the partition of the batch's earliest event; and that it does not for a cluster outside CLUSTERS, a batch older
 * than the projected dates, or another prefix.
 */
export async function assertProjectionFindsArchive(parameters: TableParameters, archive: { bucket: string; prefix: string; clusters: readonly string[]; expiryDays: number }): Promise<void> {
  const uri = async (records: readonly LogRecord[], prefix = archive.prefix) => `s3://${archive.bucket}/${(await archiveObject(records, prefix)).key}`;
  for (const cluster of archive.clusters) {
    const records = recentRecords(cluster);
    const earliest = new Date(Math.min(...records.map((record) => record.timestamp))).toISOString();
    assert.deepEqual(projectedPartition(parameters, await uri(records)), { cluster, date: earliest.slice(0, 10), hour: earliest.slice(11, 13) }, cluster);
  }
  const [cluster] = archive.clusters;
  assert.equal(projectedPartition(parameters, await uri(recentRecords('not-listed'))), undefined, 'a cluster outside CLUSTERS is not projected');
  const expired = recentRecords(cluster!).map((record) => recordWith(record, { timestamp: record.timestamp - (archive.expiryDays + 2) * 86_400_000 }));
  assert.equal(projectedPartition(parameters, await uri(expired)), undefined, 'a batch older than ARCHIVE_EXPIRY_DAYS is not projected');
  assert.equal(projectedPartition(parameters, await uri(recentRecords(cluster!), `other/${archive.prefix}`)), undefined, 'another prefix is not the table');
}
