// The Azure Function as the template configures it with a cold table and an archive container: real HttpRequest
// objects through the real handler, rows to the Logs Ingestion stand-in (the cold stream declared by a rule of its own,
// as the template makes it) and the archive written by the real @azure/storage-blob client to Azurite.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import functions from '@azure/functions';
import { BlobServiceClient, type ContainerClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { createReceiveHandler } from '../../functions/azure/handler.ts';
import { type AzureStandIns, RULE_ID, STREAM, startAzureStandIns } from '../support/azure-monitor.ts';
import { TIERS_TO_COLD_ARCHIVED } from '../support/azure-deployment.ts';
import { plainLines } from '../support/event-lists.ts';
import { AZURITE_ACCOUNT, type ServerProcess, startAzuriteBlob } from '../support/server-process.ts';
import { webhookRequest } from '../support/function-request.ts';

const { InvocationContext } = functions;
const TOKEN = '5f4e3d2c1b0a9f8e7d6c5b4a39281706';
const COLD_RULE_ID = 'dcr-fedcba9876543210fedcba9876543210';
const COLD_STREAM = 'Custom-KubeAuditCold';
const CONTAINER = 'kube-audit-archive';
const MUTATIONS = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

const auditIdOf = (line: string): string => (JSON.parse(line) as { auditID: string }).auditID;

/**
 * The fixture events the relay stores unchanged, each under an auditID of its own (the corpus repeats some events,
 * which the relay rightly stores once), without the health probes TIERS_TO_COLD_ARCHIVED drops: every one is stored somewhere.
 */
const sample = (tag: string): string[] =>
  plainLines()
    .filter((line) => !/"requestURI":"\/(healthz|livez|readyz)/.test(line))
    .map((line, index) => line.replace(/"auditID":"/, `"auditID":"${tag}-${index}-`));
const verbOf = (line: string): string => (JSON.parse(line) as { verb: string }).verb;

describe('azure function with a cold table and an archive container', () => {
  let azure: AzureStandIns;
  let azurite: ServerProcess;
  let container: ContainerClient;

  before(async () => {
    azure = await startAzureStandIns(21, [STREAM], { [COLD_RULE_ID]: [COLD_STREAM] });
    azurite = await startAzuriteBlob();
    const account = new StorageSharedKeyCredential(AZURITE_ACCOUNT.name, AZURITE_ACCOUNT.key);
    container = new BlobServiceClient(`${azurite.endpoint}/${AZURITE_ACCOUNT.name}`, account, { retryOptions: { maxTries: 1 } }).getContainerClient(CONTAINER);
    await container.create();
  });
  after(async () => {
    await azure?.close();
    await azurite?.stop();
  });

  /** The app settings the template writes with coldTablePlan, TIERS and archiveContainer, pointed at the stand-ins. */
  const handler = () =>
    createReceiveHandler({
      env: {
        LOGS_INGESTION_ENDPOINT: azure.ingestion.endpoint,
        LOGS_DCR_IMMUTABLE_ID: RULE_ID,
        LOGS_STREAM_NAME: STREAM,
        COLD_LOGS_STREAM_NAME: COLD_STREAM,
        COLD_LOGS_DCR_IMMUTABLE_ID: COLD_RULE_ID,
        TIERS: TIERS_TO_COLD_ARCHIVED,
        // The deployed app reaches https://<account>.blob.core.windows.net/<container>/ with its managed identity;
        // Azurite speaks OAuth only over https, so here the emulator's public development key signs the requests.
        OUTPUTS: `azure-blob+${azurite.endpoint}/${AZURITE_ACCOUNT.name}/${CONTAINER}/`,
        AZURE_STORAGE_KEY: AZURITE_ACCOUNT.key,
        CLUSTER_NAME: 'aks-archive',
        AUTH_TOKENS: TOKEN,
        REDACT_SECRETS: 'false',
        SINK_TIMEOUT_MS: '1500',
      },
      clientOptions: { tlsOptions: { ca: azure.ingestion.ca } },
    });

  async function post(receive: ReturnType<typeof handler>, lines: readonly string[]) {
    const request = webhookRequest(lines, { authorization: `Bearer ${TOKEN}` });
    const response = await receive(request, new InvocationContext({ functionName: 'receive', logHandler: () => {} }));
    return { status: response.status ?? 0, body: JSON.parse(String(response.body)) as Record<string, unknown> };
  }

  /** Every archived blob with the auditIDs of its lines. */
  async function archived(): Promise<{ name: string; auditIDs: string[] }[]> {
    const found: { name: string; auditIDs: string[] }[] = [];
    for await (const blob of container.listBlobsFlat()) {
      const text = gunzipSync(await container.getBlobClient(blob.name).downloadToBuffer()).toString('utf8');
      found.push({ name: blob.name, auditIDs: text.split('\n').filter(Boolean).map(auditIdOf) });
    }
    return found;
  }

  const auditIds = (stream: string) => azure.ingestion.rows(stream).map((row) => String(row.AuditId));

  it('stores each event in its tier and the whole batch as one archive blob; the retried batch lands on the same blob', async () => {
    const lines = sample('tiered');
    const receive = handler();
    const first = await post(receive, lines);
    assert.equal(first.status, 200, String(first.body.message));

    // Hot holds the mutations, the cold rule's stream the rest, each event once across the two.
    const hot = auditIds(STREAM);
    const cold = auditIds(COLD_STREAM);
    assert.ok(hot.length > 0 && cold.length > 0, `hot ${hot.length}, cold ${cold.length}: the sample must reach both tiers`);
    const verbOfId = new Map(lines.map((line) => [auditIdOf(line), verbOf(line)]));
    assert.deepEqual(hot.filter((id) => !MUTATIONS.has(verbOfId.get(id)!)), [], 'only mutations are hot');
    assert.deepEqual(cold.filter((id) => MUTATIONS.has(verbOfId.get(id)!)), [], 'no mutation is cold');
    assert.deepEqual([...hot, ...cold].sort(), lines.map(auditIdOf).sort());

    const [blob, ...more] = await archived();
    assert.equal(more.length, 0, 'one blob per batch');
    assert.match(blob!.name, /^cluster=aks-archive\/date=\d{4}-\d{2}-\d{2}\/hour=\d{2}\/[0-9a-f]{64}\.jsonl\.gz$/);
    assert.deepEqual([...blob!.auditIDs].sort(), lines.map(auditIdOf).sort());

    // The API server retries a batch whose answer it did not see: the same worker remembers its rows...
    const retried = await post(receive, lines);
    assert.equal(retried.status, 200, String(retried.body.message));
    assert.equal(retried.body.written, 0);
    assert.equal(auditIds(STREAM).length + auditIds(COLD_STREAM).length, lines.length, 'no row stored twice');
    // ...and a fresh worker, which remembers nothing, finds the batch's blob under its name and writes no second one
    // (its rows go to Log Analytics again: the table has no keys to refuse them, see docs/azure.md).
    const elsewhere = await post(handler(), lines);
    assert.equal(elsewhere.status, 200, String(elsewhere.body.message));
    assert.deepEqual((await archived()).map((stored) => stored.name), [blob!.name], 'the retry found its blob');
  });

  it('answers 503 while the archive is unreachable, so the API server retries the batch', async () => {
    const lines = sample('archive-down').slice(0, 10);
    await azurite.stop();
    const down = await post(handler(), lines);
    assert.equal(down.status, 503);
    assert.match(String(down.body.message), /azure blob archive: 10 events not stored in kube-audit-archive\/.*\(ECONNREFUSED\); check the relay can reach the storage account/);
  });
});
