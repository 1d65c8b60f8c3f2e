import type { S3Client } from '@aws-sdk/client-s3';
import { archiveObject } from './archive-object.ts';
import { errorName, failureName } from './retry.ts';
import { type Sink, SinkError, storedAll } from './sink.ts';

/** Settings of the S3 archive sink. */
export interface S3ArchiveOptions {
  /**
   * Built by the caller with the SDK's default configuration chain and `maxAttempts: 1` (retrying is `withRetry`'s);
   * with AWS_ENDPOINT_URL_S3 set, `forcePathStyle` for S3-compatible stores.
   */
  readonly client: S3Client;
  readonly bucket: string;
  /** Key prefix, empty or ending in `/`. */
  readonly prefix: string;
}

/** S3's answers that are worth another attempt besides 5xx: throttling and a concurrent write of the same key. */
const RETRYABLE_NAMES = new Set(['SlowDown', 'ThrottlingException', 'RequestTimeout', 'ConditionalRequestConflict', 'InternalError']);

/**
 * Archives each batch as one gzip-compressed JSON-lines object (see archiveObject for the key). The object is written
 * only if none exists under its key (If-None-Match), so a retried batch whose object is already there counts as
 * stored, and versioned or Object Lock buckets get no second version.
 */
export function createS3ArchiveSink(options: S3ArchiveOptions): Sink {
  const { client, bucket, prefix } = options;
  return {
    name: 's3-archive',
    maxRecordBytes: Number.MAX_SAFE_INTEGER,
    async send(records, { signal }) {
      // Loaded on first use: the entry points export this sink but most never archive, and the SDK is large.
      const [{ PutObjectCommand }, object] = await Promise.all([import('@aws-sdk/client-s3'), archiveObject(records, prefix)]);
      try {
        await client.send(
          new PutObjectCommand({ Bucket: bucket, Key: object.key, Body: object.body, ContentType: 'application/x-ndjson', IfNoneMatch: '*' }),
          { abortSignal: signal },
        );
      } catch (error) {
        const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        if (status === 412) return { written: 0, duplicates: records.length, restamped: 0, calls: 1 };
        const name = errorName(error);
        const retryable = !signal.aborted && (status === undefined || status >= 500 || RETRYABLE_NAMES.has(name));
        throw new SinkError(
          `s3 archive: ${records.length} events not stored in s3://${bucket}/${object.key} (${status === undefined ? failureName(error) : `HTTP ${status} ${name}`}); ${advice(status, name)}`,
          's3-archive',
          records.length,
          { cause: error, retryable },
        );
      }
      return storedAll(records.length, 1);
    },
    close: async () => client.destroy(),
  };
}

function advice(status: number | undefined, name: string): string {
  if (status === 403) return 'check the role may s3:PutObject on the bucket and prefix (and use its KMS key, if any)';
  if (name === 'NoSuchBucket' || status === 404) return 'check the bucket in the s3:// output exists (and AWS_ENDPOINT_URL_S3 for S3-compatible stores)';
  if (status === undefined) return 'check the relay can reach S3 (AWS_REGION, AWS_ENDPOINT_URL_S3)';
  return 'the API server will retry the batch';
}
