import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { isAccepted } from '../../src/edge.ts';
import type { AuditEvent } from '../../src/audit/types.ts';
import { type LogRecord, recordKey } from '../../src/record.ts';
import { readStream, standInClient } from '../support/cloudwatch-client.ts';
import { type CloudWatchLogsStandIn, startCloudWatchLogsStandIn } from '../../tools/dev/cloudwatch-logs-standin.ts';
import { captureOutput, coldStart, lambdaContext, metricSum, type OutputLine, type ProxyHandler, proxyEvent } from '../support/lambda.ts';
import { batches, eventList } from '../support/http-client.ts';
import { useEnvironment } from '../support/lambda-environment.ts';
import { repeatedLines } from '../support/event-lists.ts';
import { recordFromLine } from '../support/records.ts';
import { type SsmStandIn, startSsmStandIn } from '../support/ssm-standin.ts';

const TOKEN = '7d1e4b9a0c3f5e2d8b6a4c1e9f7d5b3a';
const TOKEN_PARAMETER = '/kube-audit-relay/prod/webhook-tokens';
/** The API server sends a batch at most this many times (--audit-webhook-initial-backoff, 5 steps), then drops it. */
const API_SERVER_ATTEMPTS = 5;
const HOUR = 3_600_000;

interface Delivery {
  /** Every answer, in order; the last one is 2xx unless the batch was dropped. */
  readonly answers: APIGatewayProxyResult[];
}

/**
 * Sends one EventList the way kube-apiserver's webhook does: the whole batch again on any non-2xx answer, up to
 * API_SERVER_ATTEMPTS times. Its 10 s x 1.5 backoff is not slept; `betweenAttempts` stands for it.
 */
async function deliver(handler: ProxyHandler, body: string, betweenAttempts: () => void = () => undefined): Promise<Delivery> {
  const answers: APIGatewayProxyResult[] = [];
  for (let attempt = 1; attempt <= API_SERVER_ATTEMPTS; attempt++) {
    const answer = await handler(proxyEvent({ body, token: TOKEN }), lambdaContext());
    answers.push(answer);
    if (isAccepted(answer.statusCode)) break;
    betweenAttempts();
  }
  return { answers };
}

const counts = (answer: APIGatewayProxyResult) => JSON.parse(answer.body) as { written: number; duplicates: number; received: number };

/** The first record of each key (auditID, stage, JSON), as a store that skips retried events holds them. */
function firstByKey(records: readonly LogRecord[]): Map<string, LogRecord> {
  const first = new Map<string, LogRecord>();
  for (const record of records) if (!first.has(recordKey(record))) first.set(recordKey(record), record);
  return first;
}

/** A thousand fixture events, each with its own auditID: three EventLists of the API server's default 400. */
const fixtureVolume = (): LogRecord[] => repeatedLines(1_000).map(recordFromLine);

/** The same events with their times moved into the last `spanMs`, in order, so CloudWatch accepts them as they are. */
function retimed(records: readonly LogRecord[], spanMs: number): LogRecord[] {
  const start = Date.now() - spanMs;
  return records.map((record, index) => {
    const event = structuredClone(record.event) as AuditEvent & Record<string, unknown>;
    const time = new Date(start + Math.floor((index / records.length) * (spanMs - HOUR))).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
    for (const field of ['requestReceivedTimestamp', 'stageTimestamp', 'timestamp'] as const) {
      if (event[field] !== undefined) event[field] = time;
    }
    if (event.stageTimestamp === undefined && event.timestamp === undefined) event.stageTimestamp = time;
    return recordFromLine(JSON.stringify(event));
  });
}

describe('aws lambda handler under CloudWatch Logs faults, replayed as the API server does', () => {
  let logs: CloudWatchLogsStandIn;
  let ssm: SsmStandIn;

  before(async () => {
    logs = await startCloudWatchLogsStandIn({ seed: 20_261_122 });
    ssm = await startSsmStandIn();
    ssm.putParameter(TOKEN_PARAMETER, TOKEN);
  });
  after(async () => {
    await logs.close();
    await ssm.close();
  });

  /** Every message of the group's one stream by key; a key stored twice fails the test. */
  async function stored(group: string): Promise<Map<string, unknown>> {
    const streams = logs.streams(group);
    assert.equal(streams.length, 1);
    const byKey = new Map<string, unknown>();
    for (const message of await readStream(standInClient(logs.endpoint), group, streams[0]!)) {
      const event = JSON.parse(message) as AuditEvent;
      const key = recordKey({ auditID: event.auditID, stage: event.stage, json: message });
      assert.ok(!byKey.has(key), `stored twice: ${key}`);
      byKey.set(key, event);
    }
    return byKey;
  }

  it('with 30% of calls failing and production retries, stores a thousand fixture events exactly once', async (t) => {
    const group = '/aws/eks/faults/cluster';
    logs.createLogGroup(group);
    useEnvironment({ cloudWatchLogs: logs.endpoint, ssm: ssm.endpoint }, { LOG_GROUP_NAME: group, AUTH_TOKEN_PARAMETER: TOKEN_PARAMETER });
    const handler = await coldStart();
    const records = fixtureVolume();
    const expected = firstByKey(records);
    const lists = batches(records, 400);

    logs.faults.failureRate = 0.3;
    const puts = logs.calls.get('PutLogEvents') ?? 0;
    const faulted = logs.faulted.get('PutLogEvents') ?? 0;
    let deliveries: Delivery[];
    let output: OutputLine[];
    try {
      ({ value: deliveries, lines: output } = await captureOutput(async () => {
        const done: Delivery[] = [];
        for (const list of lists) done.push(await deliver(handler, eventList(list.map((record) => record.json))));
        return done;
      }));
    } finally {
      logs.faults.failureRate = 0;
    }
    const putCalls = (logs.calls.get('PutLogEvents') ?? 0) - puts;
    const putFaults = (logs.faulted.get('PutLogEvents') ?? 0) - faulted;
    assert.ok(putFaults > 0 && putFaults / putCalls > 0.1, `${putFaults} of ${putCalls} PutLogEvents calls failed`);
    t.diagnostic(`PutLogEvents: ${putCalls} calls, ${putFaults} failed; attempts per batch: ${deliveries.map(({ answers }) => answers.length).join(', ')}`);

    // Every batch delivered; what each final answer reports adds up to the batch.
    const finals = deliveries.map(({ answers }) => answers.at(-1)!);
    assert.deepEqual(finals.map((answer) => answer.statusCode), lists.map(() => 200));
    finals.forEach((answer, index) => assert.equal(counts(answer).written + counts(answer).duplicates, lists[index]!.length));

    // None lost, none stored twice, each as sent.
    const byKey = await stored(group);
    assert.equal(byKey.size, expected.size);
    for (const [key, record] of expected) assert.deepEqual(byKey.get(key), JSON.parse(record.json), key);

    // Duplicates: the corpus's own repeated (auditID, stage) plus whatever an earlier failed attempt had stored.
    const written = finals.reduce((sum, answer) => sum + counts(answer).written, 0);
    const duplicates = finals.reduce((sum, answer) => sum + counts(answer).duplicates, 0);
    assert.equal(duplicates - (records.length - expected.size), expected.size - written);
    const attempts = deliveries.reduce((sum, { answers }) => sum + answers.length, 0);
    assert.equal(metricSum(output, 'BatchesRejected'), attempts - lists.length);
    assert.equal(metricSum(output, 'EventsDuplicate'), duplicates);
    assert.equal(metricSum(output, 'EventsWritten'), written);
    const received = deliveries.reduce((sum, { answers }, index) => sum + answers.length * lists[index]!.length, 0);
    assert.equal(metricSum(output, 'EventsReceived'), received);
  });

  it('after an outage mid-batch answers 503; the replayed batch skips what was stored, counts it, and stores the rest once', async (t) => {
    const group = '/aws/eks/outage/cluster';
    logs.createLogGroup(group);
    // A shorter budget than production's 20 s keeps the test fast; the retries themselves are the production ones.
    useEnvironment({ cloudWatchLogs: logs.endpoint, ssm: ssm.endpoint }, { LOG_GROUP_NAME: group, AUTH_TOKEN_PARAMETER: TOKEN_PARAMETER, SINK_TIMEOUT_MS: '3000' });
    const handler = await coldStart();
    // Real events re-timed over the last 72 hours: accepted as they are, in one PutLogEvents call per 24-hour window.
    const records = retimed(batches(fixtureVolume(), 400)[0]!, 72 * HOUR);
    const expected = firstByKey(records);

    // CreateLogStream and the first PutLogEvents succeed, then the service fails until the API server's backoff.
    logs.faults.failAfter(2, 1_000_000);
    const { value: delivery, lines: output } = await captureOutput(() =>
      deliver(handler, eventList(records.map((record) => record.json)), () => {
        logs.faults.failAfter(0, 0);
      }),
    );

    const [first, second, ...rest] = delivery.answers;
    assert.equal(rest.length, 0);
    assert.equal(first!.statusCode, 503);
    assert.match((JSON.parse(first!.body) as { message: string }).message, /the API server will retry the batch.*ServiceUnavailableException/);
    assert.equal(second!.statusCode, 200);

    const byKey = await stored(group);
    assert.equal(byKey.size, expected.size);
    for (const [key, record] of expected) assert.deepEqual(byKey.get(key), JSON.parse(record.json), key);
    const storedByFirst = expected.size - counts(second!).written;
    assert.ok(storedByFirst > 0 && storedByFirst < expected.size, `the first attempt stored ${storedByFirst} of ${expected.size}`);
    t.diagnostic(`first attempt stored ${storedByFirst} of ${expected.size} before the outage; the replay skipped them`);
    assert.equal(counts(second!).duplicates, storedByFirst + (records.length - expected.size));
    assert.equal(metricSum(output, 'BatchesRejected'), 1);
    assert.equal(metricSum(output, 'EventsDuplicate'), counts(second!).duplicates);
  });
});
