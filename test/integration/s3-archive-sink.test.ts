// The S3 archive sink through the real AWS SDK against s3rver, an S3-compatible server run as a local process.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { SinkError } from '../../src/errors.ts';
import { withDeduplication } from '../../src/sinks/deduplicate.ts';
import { withRetry } from '../../src/sinks/retry.ts';
import { createS3ArchiveSink } from '../../src/sinks/s3-archive.ts';
import { fixtureLines } from '../support/event-lists.ts';
import { renderLine } from '../support/records.ts';
import { sendContext } from '../support/send-context.ts';
import { type ServerProcess, startS3rver } from '../support/server-process.ts';

const client = (endpoint: string): S3Client =>
  new S3Client({ endpoint, forcePathStyle: true, region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });

const records = fixtureLines()
  .slice(0, 120)
  .map((line) => renderLine(line, { cluster: 'prod-eu' }));

async function objects(s3: S3Client, bucket: string): Promise<{ key: string; lines: string[] }[]> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  return Promise.all(
    (listed.Contents ?? []).map(async ({ Key }) => {
      const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key }));
      const text = gunzipSync(await object.Body!.transformToByteArray()).toString('utf8');
      return { key: Key!, lines: text.split('\n').slice(0, -1) };
    }),
  );
}

/**
 * S3's conditional write, which s3rver does not implement (it honours If-None-Match on GET only and overwrites on
 * PUT): a PUT with `If-None-Match: *` of a key that exists answers 412 PreconditionFailed, as S3 documents. Objects are
 * kept in memory by key; every PUT's If-None-Match header is recorded.
 */
async function startConditionalPutStandIn(): Promise<{ endpoint: string; ifNoneMatch: (string | undefined)[]; close(): Promise<void> }> {
  const stored = new Set<string>();
  const ifNoneMatch: (string | undefined)[] = [];
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      if (request.method !== 'PUT') {
        response.writeHead(405).end();
        return;
      }
      const header = request.headers['if-none-match'];
      ifNoneMatch.push(typeof header === 'string' ? header : undefined);
      if (header === '*' && stored.has(request.url!)) {
        response.writeHead(412, { 'content-type': 'application/xml' });
        response.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message><Condition>If-None-Match</Condition></Error>');
        return;
      }
      stored.add(request.url!);
      response.writeHead(200, { etag: '"0"' }).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { endpoint: `http://127.0.0.1:${port}`, ifNoneMatch, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('S3 archive sink: conditional writes', () => {
  it('writes each object only if its key is free, and takes S3\'s 412 for a retried batch as already stored', async () => {
    const standIn = await startConditionalPutStandIn();
    try {
      const first = createS3ArchiveSink({ client: client(standIn.endpoint), bucket: 'audit', prefix: '' });
      const restarted = createS3ArchiveSink({ client: client(standIn.endpoint), bucket: 'audit', prefix: '' });
      const stored = await first.send(records, sendContext());
      const retried = await restarted.send(records, sendContext());
      assert.deepEqual([stored.written, stored.duplicates], [records.length, 0]);
      assert.deepEqual([retried.written, retried.duplicates], [0, records.length], 'the object already there counts as stored');
      assert.deepEqual(standIn.ifNoneMatch, ['*', '*']);
      await first.close();
      await restarted.close();
    } finally {
      await standIn.close();
    }
  });
});

describe('S3 archive sink against s3rver', () => {
  let server: ServerProcess;
  let s3: S3Client;
  before(async () => {
    server = await startS3rver();
    s3 = client(server.endpoint);
    await s3.send(new CreateBucketCommand({ Bucket: 'audit' }));
    await s3.send(new CreateBucketCommand({ Bucket: 'again' }));
  });
  after(async () => {
    s3?.destroy();
    await server?.stop();
  });

  it('stores a batch as one gzip JSON-lines object under prefix/cluster/date/hour/<digest>.jsonl.gz', async () => {
    const sink = createS3ArchiveSink({ client: client(server.endpoint), bucket: 'audit', prefix: 'k8s/' });
    const result = await sink.send(records, sendContext());
    assert.deepEqual([result.written, result.calls], [records.length, 1]);

    const [stored, ...more] = await objects(s3, 'audit');
    assert.equal(more.length, 0);
    const earliest = new Date(Math.min(...records.map((record) => record.timestamp))).toISOString();
    const partition = `k8s/cluster=prod-eu/date=${earliest.slice(0, 10)}/hour=${earliest.slice(11, 13)}/`;
    assert.ok(stored!.key.startsWith(partition), stored!.key);
    assert.match(stored!.key.slice(partition.length), /^[0-9a-f]{64}\.jsonl\.gz$/);
    assert.deepEqual(stored!.lines, records.map((record) => record.json));
    await sink.close();
  });

  it('puts a retried batch under the same key, even from a relay that remembers nothing (s3rver overwrites it: the 412 is tested above)', async () => {
    const first = createS3ArchiveSink({ client: client(server.endpoint), bucket: 'again', prefix: '' });
    const restarted = createS3ArchiveSink({ client: client(server.endpoint), bucket: 'again', prefix: '' });
    await first.send(records, sendContext());
    const other = records.slice(0, 10);
    await restarted.send(other, sendContext());
    await restarted.send(records, sendContext());

    const stored = await objects(s3, 'again');
    assert.equal(stored.length, 2, 'one object per distinct batch');
    assert.deepEqual(stored.map((object) => object.lines.length).sort((a, b) => a - b), [other.length, records.length]);
    await first.close();
    await restarted.close();
  });

  it('fails with a SinkError naming the bucket and what to check when the bucket does not exist, without retrying', async () => {
    const sink = withRetry(createS3ArchiveSink({ client: client(server.endpoint), bucket: 'missing', prefix: 'a/' }));
    await assert.rejects(sink.send(records.slice(0, 3), sendContext()), (error: unknown) => {
      assert.ok(error instanceof SinkError);
      assert.equal(error.retryable, false);
      assert.match(error.message, /^s3 archive: 3 events not stored in s3:\/\/missing\/a\/cluster=prod-eu\/.*\(HTTP 404 NoSuchBucket\); check the bucket/);
      return true;
    });
  });
});

describe('S3 archive sink when the store is down', () => {
  it('reports a retryable SinkError and stops retrying before the deadline', async () => {
    const server = await startS3rver();
    const endpoint = server.endpoint;
    await server.stop();
    const sink = withDeduplication(withRetry(createS3ArchiveSink({ client: client(endpoint), bucket: 'audit', prefix: '' })));
    const started = Date.now();
    // A 1.5 s deadline: retries stop in time to report S3's error rather than a timeout.
    await assert.rejects(sink.send(records.slice(0, 5), sendContext(1_500)), (error: unknown) => {
      assert.ok(error instanceof SinkError);
      assert.equal(error.retryable, true);
      assert.match(error.message, /\(ECONNREFUSED\); check the relay can reach S3/);
      return true;
    });
    assert.ok(Date.now() - started < 1_500, 'gave up before the deadline');
  });
});
