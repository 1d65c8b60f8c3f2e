// The Azure Function's promise through the real SDK and the Logs Ingestion stand-in: 2xx only once every row is
// stored, when one call of a batch answers after the deadline while the others landed, and when something in the path
// answers a 2xx other than the service's 204.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import functions from '@azure/functions';
import { createReceiveHandler } from '../../functions/azure/handler.ts';
import { type AzureStandIns, RULE_ID, startAzureStandIns } from '../support/azure-monitor.ts';
import { syntheticEvents } from '../support/synthetic-events.ts';
import { waitFor } from '../support/wait-for.ts';
import { webhookRequest } from '../support/function-request.ts';

const { InvocationContext } = functions;
const TOKEN = '9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b';
/** The API server sends a batch at most this many times, then drops it. */
const API_SERVER_ATTEMPTS = 5;

describe('azure function: what 2xx means', () => {
  let azure: AzureStandIns;
  before(async () => {
    azure = await startAzureStandIns(12);
  });
  after(() => azure.close());

  const handler = () =>
    createReceiveHandler({
      env: { LOGS_INGESTION_ENDPOINT: azure.ingestion.endpoint, LOGS_DCR_IMMUTABLE_ID: RULE_ID, AUTH_TOKENS: TOKEN, SINK_TIMEOUT_MS: '1500' },
      clientOptions: { tlsOptions: { ca: azure.ingestion.ca } },
    });

  /** How many rows hold each auditID. */
  const storedCounts = (): Map<string, number> => {
    const counts = new Map<string, number>();
    for (const row of azure.ingestion.rows()) counts.set(String(row.AuditId), (counts.get(String(row.AuditId)) ?? 0) + 1);
    return counts;
  };

  /** Posts the batch as the API server does, up to 5 times until 2xx; after a 2xx every event must be stored. */
  async function deliver(receive: ReturnType<typeof handler>, lines: readonly string[]): Promise<{ statuses: number[]; messages: string[] }> {
    const statuses: number[] = [];
    const messages: string[] = [];
    const auditIDs = lines.map((line) => (JSON.parse(line) as { auditID: string }).auditID);
    for (let attempt = 0; attempt < API_SERVER_ATTEMPTS; attempt++) {
      const request = webhookRequest(lines, { authorization: `Bearer ${TOKEN}` });
      const response = await receive(request, new InvocationContext({ functionName: 'receive', logHandler: () => {} }));
      statuses.push(response.status ?? 0);
      messages.push(String((JSON.parse(String(response.body)) as { message: string }).message));
      if ((response.status ?? 0) < 200 || (response.status ?? 0) > 206) continue;
      const stored = storedCounts();
      assert.deepEqual(auditIDs.filter((id) => !stored.has(id)), [], `answered ${response.status} with rows not stored`);
      break;
    }
    return { statuses, messages };
  }

  it('answers 503 when one call answers after the deadline while the others landed, and loses nothing', async () => {
    // ~2.5 MB of rows: three calls at once; the third to arrive is held 4 s, past SINK_TIMEOUT_MS of 1.5 s.
    const lines = syntheticEvents(250, 10_000);
    azure.ingestion.faults.delayOneAfter(2, 4_000);

    const { statuses } = await deliver(handler(), lines);

    assert.deepEqual(statuses, [503, 200]);
    const auditIDs = lines.map((line) => (JSON.parse(line) as { auditID: string }).auditID);
    // The held call is stored once its 4 s are up (bounded wait): stored twice at worst, never lost.
    await waitFor(() => {
      const stored = storedCounts();
      return auditIDs.reduce((total, id) => total + (stored.get(id) ?? 0), 0) >= 2 * lines.length;
    });
    const stored = storedCounts();
    assert.ok(auditIDs.every((id) => (stored.get(id) ?? 0) >= 1), 'no row lost');
  });

  it('does not take a 2xx other than 204 (a proxy\'s 200 page) as stored: 503, and the retry stores every row', async () => {
    const lines = syntheticEvents(20);
    azure.ingestion.faults.answerNext(1, 200);

    const { statuses, messages } = await deliver(handler(), lines);

    assert.deepEqual(statuses, [503, 200]);
    assert.match(messages[0]!, /^not stored, the API server will retry the batch: azure monitor logs: 20 of 20 rows were not stored .*\(HTTP 200\)/);
    const stored = storedCounts();
    assert.deepEqual(lines.map((line) => stored.get((JSON.parse(line) as { auditID: string }).auditID)), lines.map(() => 1));
  });
});
