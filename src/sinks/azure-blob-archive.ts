import type { ContainerClient } from '@azure/storage-blob';
import { archiveObject } from './archive-object.ts';
import { failureName } from './retry.ts';
import { type Sink, SinkError, storedAll } from './sink.ts';

/** Settings of the Azure Blob archive sink. */
export interface AzureBlobArchiveOptions {
  /** The container, with the SDK's own retries off (`retryOptions: { maxTries: 1 }`): retrying is `withRetry`'s. */
  readonly container: ContainerClient;
  /** Blob name prefix, empty or ending in `/`. */
  readonly prefix: string;
}

/** Statuses another attempt may fix: a timeout, throttling (503 ServerBusy), or the service failing. */
const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504]);

/**
 * Archives each batch as one gzip-compressed JSON-lines block blob, named as the S3 archive names its objects (see
 * archiveObject). The blob is written only if none exists under its name (If-None-Match), so a retried batch whose
 * blob is there counts as stored and an immutability policy is never tripped.
 */
export function createAzureBlobArchiveSink(options: AzureBlobArchiveOptions): Sink {
  const { container, prefix } = options;
  return {
    name: 'azure-blob-archive',
    maxRecordBytes: Number.MAX_SAFE_INTEGER,
    async send(records, { signal }) {
      const object = await archiveObject(records, prefix);
      try {
        await container.getBlockBlobClient(object.key).uploadData(object.body, {
          abortSignal: signal,
          conditions: { ifNoneMatch: '*' },
          blobHTTPHeaders: { blobContentType: 'application/x-ndjson' },
        });
      } catch (error) {
        const status = (error as { statusCode?: number }).statusCode;
        const code = (error as { code?: unknown }).code;
        if (status === 409 && code === 'BlobAlreadyExists') return { written: 0, duplicates: records.length, restamped: 0, calls: 1 };
        const what = status === undefined ? failureName(error) : `HTTP ${status}${typeof code === 'string' ? ` ${code.slice(0, 64)}` : ''}`;
        throw new SinkError(
          `azure blob archive: ${records.length} events not stored in ${container.containerName}/${object.key} (${what}); ${advice(status, code)}`,
          'azure-blob-archive',
          records.length,
          { cause: error, retryable: !signal.aborted && (status === undefined || RETRYABLE_STATUS.has(status)) },
        );
      }
      return storedAll(records.length, 1);
    },
    close: async () => {},
  };
}

function advice(status: number | undefined, code: unknown): string {
  if (status === 403) return "check the identity has Storage Blob Data Contributor on the container, or the SAS token's permissions and expiry";
  if (code === 'ContainerNotFound' || status === 404) return 'check the container in the output URI exists';
  if (status === undefined) return 'check the relay can reach the storage account';
  return 'the API server will retry the batch';
}
