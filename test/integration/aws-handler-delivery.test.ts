// The Lambda handler's promise through the real SDK and the CloudWatch Logs stand-in: 2xx only once every event is
// stored, when the service rejects part of a call or answers after the deadline; and every batch log line says why.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { isAccepted } from '../../src/index.ts';
import { readStream, standInClient } from '../support/cloudwatch-client.ts';
import { type CloudWatchLogsStandIn, startCloudWatchLogsStandIn } from '../../tools/dev/cloudwatch-logs-standin.ts';
import { eventList } from '../support/http-client.ts';
import { captureOutput, coldStart, lambdaContext, type ProxyHandler, proxyEvent } from '../support/lambda.ts';
import { useEnvironment } from '../support/lambda-environment.ts';
import { syntheticEvents } from '../support/synthetic-events.ts';
import { waitFor } from '../support/wait-for.ts';

const TOKEN = '5b0c7e2a9d4f1e8c3a6b0d7f2e9c4a1b';
/** The API server sends a batch at most this many times, then drops it. */
const API_SERVER_ATTEMPTS = 5;
const BATCH_LINES = new Set(['batch stored', 'batch refused', 'batch not stored', 'refused the invocation']);

const body = (result: APIGatewayProxyResult) => JSON.parse(result.body) as Record<string, unknown>;

describe('aws lambda handler: what 2xx means, and why each batch was answered as it was', () => {
  let logs: CloudWatchLogsStandIn;
  before(async () => {
    logs = await startCloudWatchLogsStandIn({ seed: 12 });
  });
  after(() => logs.close());

  /** A warm execution environment writing to its own group, its stream already created. */
  async function environment(group: string, variables: Record<string, string> = {}): Promise<ProxyHandler> {
    logs.createLogGroup(group);
    // SSM is never called: the token comes from AUTH_TOKENS.
    useEnvironment({ cloudWatchLogs: logs.endpoint, ssm: 'http://127.0.0.1:9' }, { LOG_GROUP_NAME: group, AUTH_TOKENS: TOKEN, ...variables });
    const handler = await coldStart();
    const warm = await captureOutput(() => handler(proxyEvent({ body: eventList(syntheticEvents(1)), token: TOKEN }), lambdaContext()));
    assert.equal(warm.value.statusCode, 200, warm.value.body);
    return handler;
  }

  /** Every message stored in the group's stream, counted. */
  async function storedCounts(group: string): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    for (const message of await readStream(standInClient(logs.endpoint), group, logs.streams(group)[0]!)) counts.set(message, (counts.get(message) ?? 0) + 1);
    return counts;
  }

  /** Sends the batch as the API server does, up to 5 times until 2xx; after each 2xx, every event must be stored. */
  async function deliver(handler: ProxyHandler, group: string, lines: readonly string[], remainingMs?: number): Promise<number[]> {
    const statuses: number[] = [];
    for (let attempt = 0; attempt < API_SERVER_ATTEMPTS; attempt++) {
      const { value } = await captureOutput(() => handler(proxyEvent({ body: eventList(lines), token: TOKEN }), lambdaContext(remainingMs)));
      statuses.push(value.statusCode);
      if (!isAccepted(value.statusCode)) continue;
      const stored = await storedCounts(group);
      assert.deepEqual(lines.filter((line) => !stored.has(line)), [], `answered ${value.statusCode} with events not stored`);
      break;
    }
    return statuses;
  }

  it('logs the reason of every batch it answers, refusals and failures included, under a key Powertools keeps', async () => {
    // The budget only bounds the retries of the failing call at the end; the first call of a cold client takes longer
    // than 500 ms on a loaded machine.
    const handler = await environment('/aws/eks/reasons/cluster', { MAX_BODY_BYTES: '4096', SINK_TIMEOUT_MS: '3000' });
    const valid = eventList(syntheticEvents(2));
    const events = [
      proxyEvent({ body: valid, token: TOKEN }),
      proxyEvent({ body: '{"kind":"EventList"', token: TOKEN }),
      proxyEvent({ body: valid }),
      proxyEvent({ body: valid, token: TOKEN, headers: { 'Content-Encoding': 'gzip' } }),
      proxyEvent({ body: valid, token: TOKEN, method: 'PUT' }),
      proxyEvent({ body: eventList(syntheticEvents(5, 1_000)), token: TOKEN }),
      { ...proxyEvent({ body: valid, token: TOKEN }), httpMethod: undefined } as unknown as ReturnType<typeof proxyEvent>,
    ];
    const { value: answers, lines } = await captureOutput(async () => {
      const results: APIGatewayProxyResult[] = [];
      for (const event of events) results.push(await handler(event, lambdaContext()));
      logs.faults.failNext(50);
      results.push(await handler(proxyEvent({ body: eventList(syntheticEvents(2)), token: TOKEN }), lambdaContext()));
      logs.faults.failNext(0);
      return results;
    });

    assert.deepEqual(answers.map((answer) => answer.statusCode), [200, 400, 401, 415, 405, 413, 400, 503]);
    const batchLines = lines.filter((line) => BATCH_LINES.has(String(line.message)));
    assert.equal(batchLines.length, answers.length, 'one line per batch');
    batchLines.forEach((line, index) => {
      assert.equal(line.status, answers[index]!.statusCode);
      assert.equal(line.reason, body(answers[index]!).message, `the reason of the ${line.status} is logged`);
      assert.ok(String(line.reason).length > 0);
    });
    assert.deepEqual(lines.filter((line) => /reserved key/.test(String(line.message))), [], 'Powertools dropped no key');
  });

  it('answers 503, not 200, when CloudWatch rejects part of a call even after restamping, and the retry stores the rest once', async () => {
    const group = '/aws/eks/rejected/cluster';
    const handler = await environment(group);
    const lines = syntheticEvents(50);
    // Both the first call and the restamped second one come back with 10 events expired.
    logs.faults.expireFirst(2, 10);

    const statuses = await deliver(handler, group, lines);

    assert.deepEqual(statuses, [503, 200]);
    const stored = await storedCounts(group);
    assert.deepEqual(lines.map((line) => stored.get(line)), lines.map(() => 1), 'every event stored exactly once');
  });

  it('answers 503 when one call of a batch answers after the deadline while the others landed, and loses nothing', async () => {
    const group = '/aws/eks/late/cluster';
    const handler = await environment(group);
    // ~2.5 MB of events: three PutLogEvents calls, sent at once; the third to arrive is answered 4 s late.
    const lines = syntheticEvents(250, 10_000);
    logs.faults.delayOneAfter(2, 4_000);

    // 3 s left in the invocation: 1.5 s are kept for answering, so the sink gets 1.5 s.
    const statuses = await deliver(handler, group, lines, 3_000);

    assert.deepEqual(statuses, [503, 200]);
    // The late call is stored once its 4 s are up; wait for it (bounded) before counting.
    const calls = () => logs.calls.get('PutLogEvents') ?? 0;
    await waitFor(async () => {
      const stored = await storedCounts(group);
      return lines.reduce((total, line) => total + (stored.get(line) ?? 0), 0) > lines.length;
    });
    const stored = await storedCounts(group);
    const twice = lines.filter((line) => stored.get(line) === 2);
    assert.ok(lines.every((line) => (stored.get(line) ?? 0) >= 1), 'no event lost');
    // The late call landed after the 503 and its events were sent again: stored twice (at-least-once), never lost.
    assert.ok(twice.length > 0 && twice.length < lines.length / 2, `only the late call's events are stored twice, got ${twice.length} of ${lines.length} over ${calls()} calls`);
  });
});
