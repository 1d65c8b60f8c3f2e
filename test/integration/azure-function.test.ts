import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import functions from '@azure/functions';
import type { HttpResponseInit } from '@azure/functions';
import { BATCH_LOG_PREFIX, type BatchLogLine } from '../../functions/azure/batch-log.ts';
import { createReceiveHandler } from '../../functions/azure/handler.ts';
import { Annotation } from '../../src/audit/annotations.ts';
import type { AuditEvent } from '../../src/audit/types.ts';
import type { Env } from '../../src/config.ts';
import { type AzureStandIns, RULE_ID, startAzureStandIns } from '../support/azure-monitor.ts';
import { batches, eventList, plainLines, repeatedLines, uniqueEvents } from '../support/event-lists.ts';
import { Fixture, fixtureFile } from '../support/records.ts';
import { isPrunedFrom } from '../support/pruned.ts';

const { HttpRequest, InvocationContext } = functions;
const TOKEN = 'f3c1d2e5a6b7c8d9e0f1a2b3c4d5e6f7';
const CLUSTER = 'aks-prod-weu';
const FIELD_LIMIT = 65_536;

/** Which event field each column holds; the rest (TimeGenerated, RequestReceivedTime, Annotations, Cluster) are checked apart. */
const FIELD_OF_COLUMN: Record<string, keyof AuditEvent & string> = {
  Level: 'level', AuditId: 'auditID', Stage: 'stage', RequestUri: 'requestURI', Verb: 'verb', User: 'user',
  ImpersonatedUser: 'impersonatedUser', SourceIps: 'sourceIPs', UserAgent: 'userAgent', ObjectRef: 'objectRef',
  ResponseStatus: 'responseStatus', RequestObject: 'requestObject', ResponseObject: 'responseObject', StageReceivedTime: 'stageTimestamp',
};
const COLUMNS = new Set([...Object.keys(FIELD_OF_COLUMN), 'TimeGenerated', 'RequestReceivedTime', 'Annotations', 'Cluster']);
const size = (value: unknown) => (value === undefined ? 0 : Buffer.byteLength(typeof value === 'string' ? value : JSON.stringify(value), 'utf8'));

/** Asserts a stored row is the event in the table's shape: every field, cut only where over 64 KB and then marked. */
/**
 * Why a stored row is not the event in the table's shape, or undefined when it is: every field equal, or cut only
 * where over 64 KB and then marked, with the relay's cluster in Cluster and Annotations.
 */
function rowDifference(row: Record<string, unknown>, event: AuditEvent): string | undefined {
  for (const column of Object.keys(row)) if (!COLUMNS.has(column)) return `unexpected column ${column}`;
  const annotations = { ...(row.Annotations as Record<string, string>) };
  const cut = new Set((annotations[Annotation.TruncatedFields] ?? '').split(',').filter(Boolean));
  for (const [column, field] of Object.entries(FIELD_OF_COLUMN)) {
    const stored = row[column];
    if (size(stored) > FIELD_LIMIT) return `${column} is over 64 KB`;
    if (cut.has(field)) {
      if (size(event[field]) <= FIELD_LIMIT - 512) return `${field} marked as cut but small`;
      if (!isPrunedFrom(stored, event[field])) return `${column} is not a cut copy of ${field}`;
    } else if (!isDeepStrictEqual(stored, event[field])) {
      return `${column} differs from ${field}`;
    }
  }
  if (row.RequestReceivedTime !== (event.requestReceivedTimestamp ?? event.timestamp)) return 'RequestReceivedTime differs';
  const time = event.stageTimestamp ?? event.requestReceivedTimestamp ?? (event.timestamp && new Date(Date.parse(event.timestamp)).toISOString());
  if (row.TimeGenerated !== time) return 'TimeGenerated differs';
  if (row.Cluster !== CLUSTER) return 'Cluster differs';
  if (cut.size > 0) {
    if (annotations[Annotation.Truncated] !== 'true') return 'cut fields without audit.k8s.io/truncated';
    delete annotations[Annotation.Truncated];
    delete annotations[Annotation.TruncatedFields];
  }
  const expected = { ...event.annotations, [Annotation.Cluster]: CLUSTER };
  if (cut.has('annotations')) {
    if (!isPrunedFrom(annotations, expected) || annotations[Annotation.Cluster] !== CLUSTER) return 'Annotations are not a cut copy keeping the cluster';
  } else if (!isDeepStrictEqual(annotations, expected)) {
    return 'Annotations differ';
  }
  return undefined;
}

/** The one structured line a request logged, with its level; fails unless there is exactly one and it has the prefix the template's queries match. */
function batchLine(logs: readonly string[]): { level: string; line: BatchLogLine } {
  assert.equal(logs.length, 1, `one log line per request, got ${logs.length}`);
  const [level, text] = [logs[0]!.slice(0, logs[0]!.indexOf(' ')), logs[0]!.slice(logs[0]!.indexOf(' ') + 1)];
  assert.ok(text.startsWith(BATCH_LOG_PREFIX), `the line does not start with ${BATCH_LOG_PREFIX}: ${text.slice(0, 60)}`);
  return { level, line: JSON.parse(text) as BatchLogLine };
}

const assertRowIsEvent = (row: Record<string, unknown>, event: AuditEvent): void =>
  assert.equal(rowDifference(row, event), undefined, `row of ${event.auditID}/${event.stage}`);

/**
 * A thousand fixture events the relay stores unchanged (no secret values to redact) and the table holds whole (no
 * field over Log Analytics' 64 KB; cutting is tested on its own below), each with its own auditID.
 */
const fixtureVolume = repeatedLines(1_000, plainLines().filter((line) => Buffer.byteLength(line) < 65_536));

describe('azure function: real HttpRequest objects through the pipeline to the Logs Ingestion stand-in', () => {
  let azure: AzureStandIns;

  before(async () => {
    azure = await startAzureStandIns(11);
  });
  after(() => azure.close());

  const settings = (extra: Env = {}): Env => ({
    LOGS_INGESTION_ENDPOINT: azure.ingestion.endpoint,
    LOGS_DCR_IMMUTABLE_ID: RULE_ID,
    CLUSTER_NAME: CLUSTER,
    AUTH_TOKENS: TOKEN,
    // The rows are compared with the input events, so nothing may change them.
    REDACT_SECRETS: 'false',
    ...extra,
  });
  const handler = (extra: Env = {}) =>
    createReceiveHandler({ env: settings(extra), clientOptions: { tlsOptions: { ca: azure.ingestion.ca } } });

  /** One webhook POST, as kube-apiserver sends it (the query string is client-go's and is ignored). */
  async function post(receive: ReturnType<typeof handler>, body: string, headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }, method = 'POST', path = '/audit') {
    const logs: string[] = [];
    const context = new InvocationContext({ functionName: 'receive', logHandler: (level, ...args) => logs.push(`${level} ${args.join(' ')}`) });
    const request = new HttpRequest({
      method,
      url: `https://kar-func.azurewebsites.net${path}?timeout=30s`,
      headers: { 'content-type': 'application/json', accept: 'application/json, */*', ...headers },
      body: { string: body },
    });
    const response: HttpResponseInit = await receive(request, context);
    const parsed = typeof response.body === 'string' ? (JSON.parse(response.body) as Record<string, unknown>) : (response.jsonBody as Record<string, unknown>);
    return { status: response.status, headers: (response.headers ?? {}) as Record<string, string>, body: parsed, logs };
  }

  /**
   * Asserts the rows stored since `from` are exactly the events, each in the table's shape. Different events may share
   * an auditID and stage (the corpus has some), so each event takes the first unused row it matches.
   */
  function assertStoredExactly(from: number, events: readonly AuditEvent[]): void {
    const rows = azure.ingestion.rows().slice(from);
    assert.equal(rows.length, events.length, 'every event stored exactly once');
    const unused = new Map<string, Record<string, unknown>[]>();
    for (const row of rows) {
      const key = `${row.AuditId}/${row.Stage}`;
      unused.set(key, [...(unused.get(key) ?? []), row]);
    }
    for (const event of events) {
      const candidates = unused.get(`${event.auditID}/${event.stage}`) ?? [];
      const index = candidates.findIndex((row) => rowDifference(row, event) === undefined);
      // Report why the first candidate differs when none matches.
      if (index < 0) assertRowIsEvent(candidates[0] ?? {}, event);
      candidates.splice(index, 1);
    }
  }

  const rowByAuditId = (from: number, auditID: string) => azure.ingestion.rows().slice(from).find((row) => row.AuditId === auditID)!;

  it('stores a thousand fixture events, posted in EventLists of 400, as rows equal to the events', async () => {
    const lines = fixtureVolume;
    const receive = handler();
    const from = azure.ingestion.rows().length;
    let stored = 0;
    for (const body of batches(lines)) {
      const { status, body: answer } = await post(receive, body);
      assert.equal(status, 200, String(answer.message));
      stored += Number(answer.written) + Number(answer.duplicates);
    }
    assert.equal(stored, lines.length);

    assertStoredExactly(from, uniqueEvents(lines));
    assert.equal(azure.ingestion.fieldsOverLimit, 0);
  });

  for (const mode of [
    { name: 'the sink retries within its budget', retryAfterSeconds: 0 },
    { name: 'every Retry-After outlasts the budget, so each failure goes back to the API server', retryAfterSeconds: 30 },
  ]) {
    it(`loses nothing when 30% of calls fail and the API server retries failed batches up to 5 times: ${mode.name}`, async (t) => {
      const lines = fixtureVolume.map((line) => line.replace(/"auditID":"/, `"auditID":"fault-${mode.retryAfterSeconds}-`));
      const receive = handler({ SINK_TIMEOUT_MS: '1000' });
      const from = azure.ingestion.rows().length;
      const callsBefore = azure.ingestion.calls.length;
      azure.ingestion.faults.retryAfterSeconds = mode.retryAfterSeconds;
      azure.ingestion.faults.failureRate = 0.3;
      let batchRetries = 0;
      try {
        // Batches of 50, as a quieter API server sends when --audit-webhook-batch-max-wait passes first: more calls to fail.
        for (const body of batches(lines, 50)) {
          let status = 0;
          for (let attempt = 0; attempt <= 5 && status !== 200; attempt++) {
            status = (await post(receive, body)).status ?? 0;
            if (status !== 200) {
              assert.equal(status, 503);
              batchRetries++;
            }
          }
          assert.equal(status, 200, 'a batch was still failing after 5 retries');
        }
      } finally {
        azure.ingestion.faults.failureRate = 0;
      }
      const failedCalls = azure.ingestion.calls.slice(callsBefore).filter((call) => call.status === 429 || call.status === 503).length;
      t.diagnostic(`${failedCalls} of ${azure.ingestion.calls.length - callsBefore} calls throttled or failed, ${batchRetries} batches retried by the API server`);
      assert.ok(failedCalls > 0);
      if (mode.retryAfterSeconds > 0) assert.equal(batchRetries, failedCalls);
      assertStoredExactly(from, uniqueEvents(lines));
    });
  }

  it('answers 503 when the service keeps failing past the budget, and the retried batch stores only the rest', async () => {
    // Metadata events, about 1 KB each, so the send fits the 400 ms budget on a loaded machine until the throttling.
    const lines = repeatedLines(400, fixtureFile(Fixture.Metadata)).map((line) => line.replace(/"auditID":"/, '"auditID":"budget-'));
    const receive = handler({ SINK_TIMEOUT_MS: '400' });
    const from = azure.ingestion.rows().length;
    azure.ingestion.faults.retryAfterSeconds = 5;
    azure.ingestion.faults.throttleNext(1);
    const first = await post(receive, eventList(lines));
    assert.equal(first.status, 503);
    assert.match(String(first.body.message), /not stored, the API server will retry the batch: azure monitor logs: \d+ of \d+ rows/);
    const failed = batchLine(first.logs);
    assert.equal(failed.level, 'error');
    assert.equal(failed.line.status, 503);
    assert.equal(failed.line.error, 'SinkError');
    const storedFirst = azure.ingestion.rows().length - from;

    const retry = await post(receive, eventList(lines));
    assert.equal(retry.status, 200);
    assert.equal(Number(retry.body.duplicates), storedFirst + (lines.length - uniqueEvents(lines).length));
    assertStoredExactly(from, uniqueEvents(lines));
  });

  it('cuts fields over 64 KB to valid JSON, marked in Annotations, and shrinks events over the sink limit', async () => {
    const big = {
      kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: 'RequestResponse', auditID: 'limit-1', stage: 'ResponseComplete',
      requestURI: '/api/v1/namespaces/kube-system/configmaps', verb: 'create', user: { username: 'alice', groups: ['dev'] },
      sourceIPs: ['10.0.0.7'], userAgent: 'kubectl/v1.30.0',
      objectRef: { resource: 'configmaps', namespace: 'kube-system', name: 'huge', apiVersion: 'v1' },
      responseStatus: { metadata: {}, code: 201 },
      requestObject: { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'huge', namespace: 'kube-system' }, data: { blob: 'x'.repeat(300_000) } },
      annotations: { 'authorization.k8s.io/decision': 'allow', 'example.com/note': 'n'.repeat(100_000) },
      requestReceivedTimestamp: '2025-03-01T08:00:00.000001Z', stageTimestamp: '2025-03-01T08:00:00.020002Z',
    };
    const huge = { ...big, auditID: 'limit-2', responseObject: { kind: 'ConfigMap', data: { blob: 'y'.repeat(1_200_000) } } };
    const from = azure.ingestion.rows().length;
    const { status, body } = await post(handler(), eventList([JSON.stringify(big), JSON.stringify(huge)]));
    assert.equal(status, 200);
    // The 1.5 MB event by the pipeline (its 100 KB annotation cut again by the sink), the other by the sink alone.
    assert.equal(body.truncated, 2, 'each truncated event counted once');
    const row = rowByAuditId(from, 'limit-1');
    assertRowIsEvent(row, big as AuditEvent);
    assert.deepEqual((row.Annotations as Record<string, string>)[Annotation.TruncatedFields]!.split(',').sort(), ['annotations', 'requestObject']);
    assert.deepEqual((row.RequestObject as { metadata: unknown }).metadata, big.requestObject.metadata);

    const shrunk = rowByAuditId(from, 'limit-2');
    assert.equal(shrunk.RequestObject, undefined);
    assert.equal(shrunk.ResponseObject, undefined);
    assert.equal((shrunk.Annotations as Record<string, string>)[Annotation.Truncated], 'true');
    assert.equal(azure.ingestion.fieldsOverLimit, 0, 'nothing was left for the service to cut silently');
  });

  describe('authentication and settings', () => {
    const oneEvent = () => eventList([fixtureVolume[0]!.replace(/"auditID":"/, `"auditID":"auth-${Math.random()}-`)]);

    it('refuses a missing or wrong bearer token with 401 and a challenge, writing nothing', async () => {
      const receive = handler();
      const from = azure.ingestion.calls.length;
      const attempts: Record<string, string>[] = [{}, { authorization: 'Bearer wrong-token-0000000000000000' }, { authorization: 'Basic YWxpY2U6c2VjcmV0' }];
      for (const headers of attempts) {
        const { status, headers: answer, body } = await post(receive, oneEvent(), headers);
        assert.equal(status, 401);
        assert.match(answer['www-authenticate']!, /^Bearer realm=/);
        assert.ok(!JSON.stringify(body).includes(TOKEN));
      }
      assert.equal(azure.ingestion.calls.length, from);
      assert.equal((await post(receive, oneEvent())).status, 200);
    });

    it('accepts any caller only when AUTH_MODE=none says so', async () => {
      assert.equal((await post(handler({ AUTH_TOKENS: undefined, AUTH_MODE: 'none' }), oneEvent(), {})).status, 200);
      const { status, body } = await post(handler({ AUTH_TOKENS: undefined }), oneEvent(), {});
      assert.equal(status, 500);
      assert.match(String(body.message), /AUTH_MODE: no caller authentication is configured/);
    });

    it('answers 500 naming every variable at fault, including a Key Vault reference the platform did not resolve', async () => {
      const { status, body, logs } = await post(
        handler({ LOGS_INGESTION_ENDPOINT: undefined, LOGS_DCR_IMMUTABLE_ID: 'my-rule', AUTH_TOKENS: '@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/audit-token/)' }),
        oneEvent(),
      );
      assert.equal(status, 500);
      const message = String(body.message);
      for (const name of ['LOGS_INGESTION_ENDPOINT: is required', 'LOGS_DCR_IMMUTABLE_ID: must be', 'AUTH_TOKENS: is a Key Vault reference']) {
        assert.ok(message.includes(name), `${name} missing from: ${message}`);
      }
      const { level, line } = batchLine(logs);
      assert.equal(level, 'error');
      assert.equal(line.status, 500);
      assert.equal(line.error, 'ConfigError');
      assert.ok(line.message.includes('LOGS_INGESTION_ENDPOINT'));
    });

    it('logs one structured line per request at the level of its status class, as the alert rules read it', async () => {
      const receive = handler();
      const stored = batchLine((await post(receive, oneEvent())).logs);
      assert.deepEqual([stored.level, stored.line.status, stored.line.written], ['information', 200, 1]);
      const refused = batchLine((await post(receive, oneEvent(), { authorization: 'Bearer not-the-token-at-all' })).logs);
      assert.deepEqual([refused.level, refused.line.status], ['warning', 401]);
    });

    it('answers health probes and refuses other methods without credentials', async () => {
      const receive = handler();
      assert.equal((await post(receive, '', {}, 'GET', '/healthz')).status, 200);
      const refused = await post(receive, '', {}, 'GET', '/audit');
      assert.equal(refused.status, 405);
      assert.equal(refused.headers.allow, 'POST');
    });
  });
});
