import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TokenCredential } from '@azure/identity';
import { isAggregateLogsUploadError, LogsIngestionClient, type LogsIngestionClientOptions } from '@azure/monitor-ingestion';
import { type AzureStandIns, RULE_ID, STREAM, startAzureStandIns } from '../support/azure-monitor.ts';
import { MAX_CALL_BYTES } from '../support/logs-ingestion-standin.ts';

/** The first failure's status, code and Retry-After as the SDK reports them, or 'ok'. */
async function outcome(upload: Promise<void>) {
  try {
    await upload;
    return 'ok';
  } catch (error) {
    assert.ok(isAggregateLogsUploadError(error), 'the client reports failures as AggregateLogsUploadError');
    const cause = error.errors[0]!.cause as Error & { statusCode?: number; code?: string; response?: { headers: { get(name: string): string | undefined } } };
    return { status: cause.statusCode, code: cause.code, retryAfter: cause.response?.headers.get('retry-after'), failed: error.errors.flatMap((e) => e.failedLogs).length };
  }
}

describe('logs ingestion stand-in, through the real LogsIngestionClient', () => {
  let azure: AzureStandIns;
  before(async () => {
    azure = await startAzureStandIns(3);
  });
  after(() => azure.close());

  const client = (options: LogsIngestionClientOptions = {}, credential: TokenCredential = azure.credential) =>
    new LogsIngestionClient(azure.ingestion.endpoint, credential, { tlsOptions: { ca: azure.ingestion.ca }, retryOptions: { maxRetries: 0 }, ...options });
  const row = (id: string, extra = '') => ({ TimeGenerated: new Date().toISOString(), AuditId: id, RequestUri: extra });

  it('stores rows posted gzipped to the rule stream with a managed identity token, answering 204', async () => {
    const before = azure.ingestion.calls.length;
    assert.equal(await outcome(client().upload(RULE_ID, STREAM, [row('a'), row('b')])), 'ok');
    assert.deepEqual(azure.ingestion.calls.slice(before).map((c) => [c.status, c.gzip, c.apiVersion, c.rows]), [[204, true, '2023-01-01', 2]]);
    assert.deepEqual(azure.ingestion.rows().slice(-2).map((r) => r.AuditId), ['a', 'b']);
  });

  it('refuses a call over 1 MB uncompressed with 413, however well it compresses', async () => {
    const result = await outcome(client().upload(RULE_ID, STREAM, [row('big', 'x'.repeat(MAX_CALL_BYTES))]));
    assert.deepEqual(result, { status: 413, code: 'ContentLengthLimitExceeded', retryAfter: undefined, failed: 1 });
  });

  it('refuses an unknown rule, an undeclared stream and an unsupported api-version', async () => {
    assert.deepEqual(await outcome(client().upload('dcr-00000000000000000000000000000000', STREAM, [row('c')])), { status: 404, code: 'NotFound', retryAfter: undefined, failed: 1 });
    assert.deepEqual(await outcome(client().upload(RULE_ID, 'Custom-Other', [row('c')])), { status: 400, code: 'InvalidStream', retryAfter: undefined, failed: 1 });
    assert.deepEqual(await outcome(client({ apiVersion: '2020-01-01' }).upload(RULE_ID, STREAM, [row('c')])), { status: 400, code: 'InvalidApiVersion', retryAfter: undefined, failed: 1 });
  });

  it('refuses a token the identity endpoint did not issue', async () => {
    const forged = { getToken: async () => ({ token: 'forged', expiresOnTimestamp: Date.now() + 3_600_000 }) };
    assert.deepEqual(await outcome(client({}, forged).upload(RULE_ID, STREAM, [row('d')])), { status: 401, code: 'InvalidToken', retryAfter: undefined, failed: 1 });
  });

  it('throttles with 429 and Retry-After, fails with 503, and fails a seeded share of calls', async () => {
    azure.ingestion.faults.retryAfterSeconds = 2;
    azure.ingestion.faults.throttleNext(1);
    assert.deepEqual(await outcome(client().upload(RULE_ID, STREAM, [row('e')])), { status: 429, code: 'TooManyRequests', retryAfter: '2', failed: 1 });
    azure.ingestion.faults.failNext(1);
    assert.deepEqual(await outcome(client().upload(RULE_ID, STREAM, [row('f')])), { status: 503, code: 'ServiceUnavailable', retryAfter: '2', failed: 1 });

    azure.ingestion.faults.failureRate = 0.3;
    const before = azure.ingestion.calls.length;
    for (let i = 0; i < 100; i++) await outcome(client().upload(RULE_ID, STREAM, [row(`g${i}`)]));
    azure.ingestion.faults.failureRate = 0;
    const failed = azure.ingestion.calls.slice(before).filter((call) => call.status !== 204).length;
    assert.ok(failed >= 15 && failed <= 45, `${failed} of 100 calls failed at a 30% rate`);
  });
});
