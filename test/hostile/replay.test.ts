// The API server's way of delivering (whole-batch retries, 5 attempts, then dropped) against receivers under
// faults: the fixture events plus generated events, none may be dropped and every event must be stored. Size with
// KAR_HOSTILE_EVENTS (default 10,000 generated events; `npm run test:hostile` runs 100,000).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { deliverLikeApiServer, generatedEvents } from '../support/apiserver-webhook.ts';
import { type CloudWatchLogsStandIn, startCloudWatchLogsStandIn } from '../../tools/dev/cloudwatch-logs-standin.ts';
import { plainLines } from '../support/event-lists.ts';
import { batches, eventList } from '../support/http-client.ts';
import { captureOutput, coldStart, lambdaContext, proxyEvent } from '../support/lambda.ts';
import { useEnvironment } from '../support/lambda-environment.ts';
import { startServe } from '../support/serve.ts';

const GENERATED = Number(process.env.KAR_HOSTILE_EVENTS ?? 10_000);
/** The fixture events the receivers store byte for byte (no secret values to redact). */
const corpus = plainLines();

const sortedCopy = (lines: readonly string[]): string[] => [...lines].sort();

describe(`API-server replay of ${corpus.length} fixture + ${GENERATED} generated events`, () => {
  test('local receiver, with every tenth attempt cut off mid-body as the API server does on its 30 s timeout', async (t) => {
    const input = [...corpus, ...generatedEvents(corpus, GENERATED)];
    const output = join(mkdtempSync(join(tmpdir(), 'kar-replay-')), 'audit.log');
    const server = await startServe(['--output', output]);
    let attempts = 0;
    const url = new URL(server.url);
    const post = (body: string): Promise<number> =>
      new Promise((resolve, reject) => {
        const outgoing = request(url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (response) => {
          response.resume();
          response.on('end', () => resolve(response.statusCode ?? 0));
        });
        outgoing.on('error', reject);
        if (++attempts % 10 === 5) {
          outgoing.write(body.slice(0, body.length >> 1));
          setImmediate(() => outgoing.destroy(new Error('client timeout')));
        } else {
          outgoing.end(body);
        }
      });
    let outcome;
    try {
      outcome = await deliverLikeApiServer(batches(input, 400).map((batch) => eventList(batch)), post);
    } finally {
      await server.stop();
    }
    const cutOff = outcome.failures.get('client timeout') ?? 0;
    t.diagnostic(`${outcome.attempts.length} batches, ${cutOff} attempts cut off, ${outcome.dropped} dropped`);
    assert.equal(outcome.dropped, 0);
    assert.ok(cutOff > 0, 'some attempts were cut off');
    const written = readFileSync(output, 'utf8').split('\n');
    assert.equal(written.pop(), '');
    assert.deepEqual(sortedCopy(written), sortedCopy(input), 'every event exactly once: a cut-off body writes nothing');
  });

  describe('lambda handler, CloudWatch failing 30% of calls with throttling and 500s, and one invocation in ten timing out', () => {
    let logs: CloudWatchLogsStandIn;
    before(async () => {
      logs = await startCloudWatchLogsStandIn({ seed: 11 });
    });
    after(() => logs.close());

    test('nothing dropped, every event stored, duplicates counted', async (t) => {
      const group = '/aws/eks/hostile/cluster';
      logs.createLogGroup(group);
      useEnvironment({ cloudWatchLogs: logs.endpoint, ssm: 'http://127.0.0.1:9' }, { LOG_GROUP_NAME: group, AUTH_MODE: 'none' });
      const handler = await coldStart();
      const input = [...corpus, ...generatedEvents(corpus, GENERATED, 6 * 3_600_000)];
      let invocations = 0;
      let timedOut = 0;
      const post = async (body: string): Promise<number> => {
        // Every tenth invocation meets a slow service: it runs out of time, answers 503, and its events may still
        // land late. (Drawn at random, five in a row would drop a batch in any receiver: that tests the dice.)
        const slow = ++invocations % 10 === 5;
        logs.faults.delayMs = slow ? 2_000 : 0;
        const answer: APIGatewayProxyResult = await handler(proxyEvent({ body }), lambdaContext(slow ? 2_500 : 30_000));
        if (slow) timedOut++;
        return answer.statusCode;
      };

      logs.faults.failureRate = 0.3;
      let outcome;
      try {
        ({ value: outcome } = await captureOutput(() => deliverLikeApiServer(batches(input, 400).map((batch) => eventList(batch)), post)));
      } finally {
        logs.faults.failureRate = 0;
        logs.faults.delayMs = 0;
      }
      const stored = logs.streams(group).flatMap((stream) => logs.events(group, stream).map((event) => event.message));
      const storedSet = new Set(stored);
      const missing = input.filter((line) => !storedSet.has(line));
      const duplicates = stored.length - storedSet.size;
      t.diagnostic(
        `${outcome.attempts.length} batches, attempts ${outcome.attempts.reduce((a, b) => a + b, 0)}, failures ${JSON.stringify(Object.fromEntries(outcome.failures))}, ` +
          `${timedOut} timed out, PutLogEvents ${logs.calls.get('PutLogEvents')} (${logs.faulted.get('PutLogEvents') ?? 0} faulted), dropped ${outcome.dropped}, ` +
          `lost ${missing.length}, duplicates stored ${duplicates}`,
      );
      assert.equal(outcome.dropped, 0, 'no batch dropped after 5 attempts');
      assert.equal(missing.length, 0, 'no event lost');
      assert.ok((logs.faulted.get('PutLogEvents') ?? 0) > 0);
      // Only events stored by an invocation that had already given up can be stored twice.
      assert.ok(duplicates <= timedOut * 400, `${duplicates} duplicates from ${timedOut} timed-out invocations`);
    });
  });
});
