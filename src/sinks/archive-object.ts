import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { LogRecord } from '../record.ts';

const gzipAsync = promisify(gzip);

/** The partition value for `cluster=` when CLUSTER_NAME is not set. */
const UNNAMED_CLUSTER = 'unnamed';

/** One batch as an archive object: where it goes and its gzip-compressed JSON lines. */
export interface ArchiveObject {
  /** `<prefix>cluster=<c>/date=YYYY-MM-DD/hour=HH/<sha256 of the records' keys>.jsonl.gz` */
  readonly key: string;
  readonly body: Buffer;
}

/**
 * The object for a batch. The name is a digest of the records' keys and the partition the earliest record's time
 * (UTC), so a retried batch maps to the same name, however late the retry, and overwrites nothing new. Partitions
 * are Hive-style, which Athena and Synapse read without a crawler.
 */
export async function archiveObject(records: readonly LogRecord[], prefix: string): Promise<ArchiveObject> {
  const digest = createHash('sha256');
  let earliest = Number.POSITIVE_INFINITY;
  for (const record of records) {
    digest.update(record.key).update('\n');
    earliest = Math.min(earliest, record.timestamp);
  }
  const time = new Date(earliest).toISOString();
  const cluster = encodeURIComponent(records[0]?.cluster ?? UNNAMED_CLUSTER);
  const key = `${prefix}cluster=${cluster}/date=${time.slice(0, 10)}/hour=${time.slice(11, 13)}/${digest.digest('hex')}.jsonl.gz`;
  const body = await gzipAsync(records.map((record) => `${record.json}\n`).join(''));
  return { key, body };
}
