// The Azure Function with the shipped security preset, through the real handler and SDKs: hot events in the hot
// stream and cold ones in the cold stream of the Logs Ingestion stand-in, archive-only events in an Azurite container
// named in OUTPUTS. The API server's retry stores nothing twice anywhere.
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import functions from '@azure/functions';
import { BlobServiceClient, type ContainerClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { createReceiveHandler } from '../../functions/azure/handler.ts';
import { type AzureStandIns, RULE_ID, STREAM, startAzureStandIns } from '../support/azure-monitor.ts';
import { AZURITE_ACCOUNT, type ServerProcess, startAzuriteBlob } from '../support/server-process.ts';
import { securitySample } from '../support/tier-events.ts';
import { webhookRequest } from '../support/function-request.ts';

const { InvocationContext } = functions;
const COLD_STREAM = 'Custom-KubeAuditCold';

describe('azure function with the security preset and a Blob archive', () => {
  let azure: AzureStandIns;
  let azurite: ServerProcess;
  let container: ContainerClient;

  before(async () => {
    azure = await startAzureStandIns(3, [STREAM, COLD_STREAM]);
    azurite = await startAzuriteBlob();
    const key = new StorageSharedKeyCredential(AZURITE_ACCOUNT.name, AZURITE_ACCOUNT.key);
    container = new BlobServiceClient(`${azurite.endpoint}/${AZURITE_ACCOUNT.name}`, key, { retryOptions: { maxTries: 1 } }).getContainerClient('audit');
    await container.create();
  });
  after(async () => {
    await azurite?.stop();
    await azure?.close();
  });

  it('stores each tier in its place: hot stream, cold stream, archive container', async () => {
    const receive = createReceiveHandler({
      env: {
        LOGS_INGESTION_ENDPOINT: azure.ingestion.endpoint,
        LOGS_DCR_IMMUTABLE_ID: RULE_ID,
        COLD_LOGS_STREAM_NAME: COLD_STREAM,
        TIERS_PRESET: 'security',
        OUTPUTS: `azure-blob+${azurite.endpoint}/${AZURITE_ACCOUNT.name}/audit/aks/`,
        AZURE_STORAGE_KEY: AZURITE_ACCOUNT.key,
        AUTH_MODE: 'none',
        CLUSTER_NAME: 'aks-west',
        SINK_TIMEOUT_MS: '5000',
      },
      clientOptions: { tlsOptions: { ca: azure.ingestion.ca } },
    });
    const sample = securitySample();
    const post = async () => {
      const request = webhookRequest(sample.lines);
      const response = await receive(request, new InvocationContext({ functionName: 'receive', logHandler: () => {} }));
      return { status: response.status, body: JSON.parse(String(response.body)) as { message: string; written: number; duplicates: number } };
    };

    const first = await post();
    assert.equal(first.status, 200, first.body.message);
    assert.equal(first.body.written, sample.lines.length);
    const retried = await post();
    assert.equal(retried.status, 200, retried.body.message);
    assert.equal(retried.body.duplicates, sample.lines.length, 'every tier had stored its events');

    const ids = (rows: readonly Record<string, unknown>[]) => rows.map((row) => String(row.AuditId)).sort();
    assert.deepEqual(ids(azure.ingestion.rows(STREAM)), sample.hot);
    assert.deepEqual(ids(azure.ingestion.rows(COLD_STREAM)), sample.cold);
    const archived: string[] = [];
    for await (const blob of container.listBlobsFlat()) {
      assert.match(blob.name, /^aks\/cluster=aks-west\/date=\d{4}-\d{2}-\d{2}\/hour=\d{2}\/[0-9a-f]{64}\.jsonl\.gz$/);
      const lines = gunzipSync(await container.getBlobClient(blob.name).downloadToBuffer()).toString('utf8').split('\n').slice(0, -1);
      archived.push(...lines.map((line) => (JSON.parse(line) as { auditID: string }).auditID));
    }
    assert.deepEqual(archived.sort(), sample.archive, 'archive-only events, once each');
  });

  it('names COLD_LOGS_STREAM_NAME when the rule does not declare the cold stream', async () => {
    const receive = createReceiveHandler({
      env: {
        LOGS_INGESTION_ENDPOINT: azure.ingestion.endpoint,
        LOGS_DCR_IMMUTABLE_ID: RULE_ID,
        COLD_LOGS_STREAM_NAME: 'Custom-KubeAuditColdTypo',
        TIERS: JSON.stringify({ default: 'cold', rules: [] }),
        AUTH_MODE: 'none',
        SINK_TIMEOUT_MS: '5000',
      },
      clientOptions: { tlsOptions: { ca: azure.ingestion.ca } },
    });
    const response = await receive(webhookRequest(securitySample().lines.slice(0, 2)), new InvocationContext({ functionName: 'receive', logHandler: () => {} }));
    const { message } = JSON.parse(String(response.body)) as { message: string };
    assert.equal(response.status, 503, message);
    assert.match(message, /HTTP 400.*check COLD_LOGS_STREAM_NAME is a stream the rule declares/);
  });
});
