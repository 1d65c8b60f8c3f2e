// `kube-audit-relay serve --preset security` as a real process with its outputs bound to tiers: hot events in one
// file, cold ones in another, archive-only ones in an S3 archive (s3rver), each once across the API server's retry.
// And the routings that cannot work, refused at start naming the flag and the fix.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { runCommand } from '../support/cli.ts';
import { eventList, send } from '../support/http-client.ts';
import { type ServerProcess, startS3rver } from '../support/server-process.ts';
import { spawnServe } from '../support/serve-process.ts';
import { securitySample } from '../support/tier-events.ts';

const S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
const auditIDs = (lines: readonly string[]): string[] => lines.map((line) => (JSON.parse(line) as { auditID: string }).auditID).sort();

/** What the relay needs to write to this s3rver: its endpoint and its one access key, no instance metadata. */
const s3Environment = (store: ServerProcess): Record<string, string> => ({
  AWS_REGION: 'us-east-1',
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_ENDPOINT_URL_S3: store.endpoint,
  AWS_ACCESS_KEY_ID: S3_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: S3_CREDENTIALS.secretAccessKey,
});

/** The auditIDs of every event archived in the bucket, sorted. */
async function archivedIDs(s3: S3Client, bucket: string): Promise<string[]> {
  const archived: string[] = [];
  for (const { Key } of (await s3.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []) {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key }));
    archived.push(...gunzipSync(await object.Body!.transformToByteArray()).toString('utf8').split('\n').slice(0, -1));
  }
  return auditIDs(archived);
}

describe('serve routes by tier', () => {
  let s3rver: ServerProcess;
  let s3: S3Client;
  const dir = mkdtempSync(join(tmpdir(), 'kar-serve-tiers-'));

  before(async () => {
    s3rver = await startS3rver();
    s3 = new S3Client({ endpoint: s3rver.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: S3_CREDENTIALS });
    await s3.send(new CreateBucketCommand({ Bucket: 'bucket' }));
  });
  after(async () => {
    s3?.destroy();
    await s3rver?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('--preset security: hot to --output FILE, cold to --cold-output FILE, archive to the s3:// --output', async () => {
    const hot = join(dir, 'hot.jsonl');
    const cold = join(dir, 'cold.jsonl');
    const relay = await spawnServe(['--preset', 'security', '--output', hot, '--cold-output', cold, '--output', 's3://bucket/audit/'], { ...s3Environment(s3rver), SINK_TIMEOUT_MS: '5000' });
    try {
      const sample = securitySample();
      const body = eventList(sample.lines);
      const first = await send(relay.url, body);
      assert.equal(first.status, 200, first.body);
      // The API server retries a batch whose answer it did not see: nothing is stored twice.
      const retried = await send(relay.url, body);
      assert.equal(retried.status, 200, retried.body);
      assert.equal((JSON.parse(retried.body) as { duplicates: number }).duplicates, sample.lines.length);

      const listening = relay.logs().find((entry) => entry.msg === 'listening');
      assert.deepEqual(listening?.tiers, { hot: [hot], cold: [cold], archive: ['s3://bucket/audit/'] });
      assert.deepEqual(auditIDs(readFileSync(hot, 'utf8').split('\n').slice(0, -1)), sample.hot);
      assert.deepEqual(auditIDs(readFileSync(cold, 'utf8').split('\n').slice(0, -1)), sample.cold);
      assert.deepEqual(await archivedIDs(s3, 'bucket'), sample.archive);
      assert.equal(await relay.stop(), 0);
    } finally {
      await relay.stop();
    }
  });

  test('an archive that is down: 503 for the batch, then its retry stores the archive events once and nothing twice elsewhere', async () => {
    const archive = await startS3rver();
    const hot = join(dir, 'outage-hot.jsonl');
    const cold = join(dir, 'outage-cold.jsonl');
    // SINK_TIMEOUT_MS 2 s: an archive that does not answer fails the attempt quickly.
    const relay = await spawnServe(['--preset', 'security', '--output', hot, '--cold-output', cold, '--archive-output', 's3://outage/audit/'], { ...s3Environment(archive), SINK_TIMEOUT_MS: '2000' });
    let store: ServerProcess = archive;
    const client = () => new S3Client({ endpoint: store.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: S3_CREDENTIALS });
    try {
      const created = client();
      await created.send(new CreateBucketCommand({ Bucket: 'outage' }));
      created.destroy();
      const { port } = new URL(store.endpoint);
      await store.stop({ keepData: true });
      const sample = securitySample();
      const body = eventList(sample.lines);
      const failed = await send(relay.url, body);
      assert.equal(failed.status, 503, failed.body);
      assert.match(failed.body, /s3 archive: 3 events not stored/);
      store = await startS3rver({ port: Number(port), dir: store.dir });
      const retried = await send(relay.url, body);
      assert.equal(retried.status, 200, retried.body);
      // The files had stored their tiers on the failed attempt: the retry finds those events stored.
      assert.equal((JSON.parse(retried.body) as { duplicates: number }).duplicates, sample.hot.length + sample.cold.length);
      assert.deepEqual(auditIDs(readFileSync(hot, 'utf8').split('\n').slice(0, -1)), sample.hot);
      assert.deepEqual(auditIDs(readFileSync(cold, 'utf8').split('\n').slice(0, -1)), sample.cold);
      const reader = client();
      try {
        assert.deepEqual(await archivedIDs(reader, 'outage'), sample.archive);
      } finally {
        reader.destroy();
      }
    } finally {
      await relay.stop();
      await store.stop();
    }
  });

  test('a tier no output stores, or an output of a tier nothing reaches, is refused at start naming the flag and the fix', async () => {
    const file = join(dir, 'refused.jsonl');
    const missing = await runCommand(['serve', '--preset', 'security', '--output', file]);
    assert.equal(missing.code, 2, missing.stderr);
    assert.match(missing.stderr, /--preset \(TIERS_PRESET\): sends events to the cold tier, but no output is bound to it: list an output in --cold-output \(COLD_OUTPUTS\)/);
    assert.match(missing.stderr, /--preset \(TIERS_PRESET\): sends events to the archive tier, but no output is bound to it: list an s3:\/\/ or Azure Blob archive in --output \(OUTPUTS\), or list any output in --archive-output \(ARCHIVE_OUTPUTS\)/);

    const unreached = await runCommand(['serve', '--preset', 'minimal', '--output', file, '--cold-output', join(dir, 'never.jsonl')]);
    assert.equal(unreached.code, 2, unreached.stderr);
    assert.match(unreached.stderr, /--cold-output \(COLD_OUTPUTS\): is set, but --preset \(TIERS_PRESET\) never sends events to the cold tier/);

    const unrouted = await runCommand(['serve', '--archive-output', 's3://bucket/audit/']);
    assert.equal(unrouted.code, 2, unrouted.stderr);
    assert.match(unrouted.stderr, /--archive-output \(ARCHIVE_OUTPUTS\): binds outputs to the archive tier, but no tier routing is set: set --preset \(TIERS_PRESET\) or --tiers \(TIERS_FILE\)/);
  });
});
