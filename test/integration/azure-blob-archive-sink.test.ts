// The Azure Blob archive sink through the real @azure/storage-blob SDK against Azurite run as a local process.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { BlobServiceClient, type ContainerClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { SinkError } from '../../src/errors.ts';
import { createAzureBlobArchiveSink } from '../../src/sinks/azure-blob-archive.ts';
import { withRetry } from '../../src/sinks/retry.ts';
import { fixtureLines } from '../support/event-lists.ts';
import { renderLine } from '../support/records.ts';
import { sendContext } from '../support/send-context.ts';
import { AZURITE_ACCOUNT, type ServerProcess, startAzuriteBlob } from '../support/server-process.ts';

const records = fixtureLines()
  .slice(0, 120)
  .map((line) => renderLine(line, { cluster: 'aks-west' }));

const containerClient = (endpoint: string, name: string): ContainerClient =>
  new BlobServiceClient(`${endpoint}/${AZURITE_ACCOUNT.name}`, new StorageSharedKeyCredential(AZURITE_ACCOUNT.name, AZURITE_ACCOUNT.key), {
    retryOptions: { maxTries: 1 },
  }).getContainerClient(name);

async function blobs(container: ContainerClient): Promise<{ name: string; lines: string[] }[]> {
  const found: { name: string; lines: string[] }[] = [];
  for await (const blob of container.listBlobsFlat()) {
    const text = gunzipSync(await container.getBlobClient(blob.name).downloadToBuffer()).toString('utf8');
    found.push({ name: blob.name, lines: text.split('\n').slice(0, -1) });
  }
  return found;
}

describe('Azure Blob archive sink against Azurite', () => {
  let server: ServerProcess;
  before(async () => {
    server = await startAzuriteBlob();
    await containerClient(server.endpoint, 'audit').create();
  });
  after(async () => server?.stop());

  it('stores a batch as one gzip JSON-lines blob under prefix/cluster/date/hour/<digest>.jsonl.gz, and a retried batch once', async () => {
    const container = containerClient(server.endpoint, 'audit');
    const sink = createAzureBlobArchiveSink({ container, prefix: 'kube/' });
    assert.equal((await sink.send(records, sendContext())).written, records.length);
    // A relay that restarted remembers nothing; the retried batch finds its blob and stores nothing new.
    const restarted = createAzureBlobArchiveSink({ container, prefix: 'kube/' });
    const again = await restarted.send(records, sendContext());
    assert.deepEqual([again.written, again.duplicates], [0, records.length]);

    const [stored, ...more] = await blobs(container);
    assert.equal(more.length, 0);
    const earliest = new Date(Math.min(...records.map((record) => record.timestamp))).toISOString();
    assert.match(stored!.name, new RegExp(`^kube/cluster=aks-west/date=${earliest.slice(0, 10)}/hour=${earliest.slice(11, 13)}/[0-9a-f]{64}\\.jsonl\\.gz$`));
    assert.deepEqual(stored!.lines, records.map((record) => record.json));
  });

  it('fails with a SinkError that says to check the container, without retrying, when it does not exist', async () => {
    const sink = withRetry(createAzureBlobArchiveSink({ container: containerClient(server.endpoint, 'missing'), prefix: '' }));
    await assert.rejects(sink.send(records.slice(0, 2), sendContext()), (error: unknown) => {
      assert.ok(error instanceof SinkError);
      assert.equal(error.retryable, false);
      assert.match(error.message, /^azure blob archive: 2 events not stored in missing\/cluster=aks-west\/.*\(HTTP 404 ContainerNotFound\); check the container/);
      return true;
    });
  });

  it('reports a retryable SinkError when the service is down', async () => {
    const down = await startAzuriteBlob();
    const endpoint = down.endpoint;
    await down.stop();
    const sink = createAzureBlobArchiveSink({ container: containerClient(endpoint, 'audit'), prefix: '' });
    await assert.rejects(sink.send(records.slice(0, 2), sendContext()), (error: unknown) => {
      assert.ok(error instanceof SinkError);
      assert.equal(error.retryable, true);
      assert.match(error.message, /\(ECONNREFUSED\); check the relay can reach the storage account$/);
      return true;
    });
  });
});
