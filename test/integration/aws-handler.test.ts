import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { Annotation } from '../../src/audit/annotations.ts';
import type { AuditEvent } from '../../src/audit/types.ts';
import { type LogRecord, recordKey } from '../../src/record.ts';
import { readStream, standInClient } from '../support/cloudwatch-client.ts';
import { type CloudWatchLogsStandIn, startCloudWatchLogsStandIn } from '../../tools/dev/cloudwatch-logs-standin.ts';
import { captureOutput, coldStart, emfMetrics, lambdaContext, metricSum, type ProxyHandler, proxyEvent,  } from '../support/lambda.ts';
import { batches, eventList } from '../support/http-client.ts';
import { plainLines } from '../support/event-lists.ts';
import { useEnvironment } from '../support/lambda-environment.ts';
import { fixtureRecords, plainRecords, recordFromLine } from '../support/records.ts';
import { type SsmStandIn, startSsmStandIn } from '../support/ssm-standin.ts';

const TOKEN = 'f3c1a9e07b5d4c2e8a6b0d9c7e5f3a1b';
const NEXT_TOKEN = '0a9b8c7d6e5f40312233445566778899';
const TOKEN_PARAMETER = '/kube-audit-relay/prod/webhook-tokens';

/** The first record of each key (auditID, stage, JSON): what a store that skips retried events holds. */
function firstByKey(records: readonly LogRecord[]): Map<string, LogRecord> {
  const first = new Map<string, LogRecord>();
  for (const record of records) if (!first.has(recordKey(record))) first.set(recordKey(record), record);
  return first;
}

/** JSON with object keys sorted, so equal events compare equal as strings whatever their key order. */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_, item: unknown) =>
    item && typeof item === 'object' && !Array.isArray(item) ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => (a < b ? -1 : 1))) : item,
  );

const body = (result: APIGatewayProxyResult) => JSON.parse(result.body) as Record<string, number | string>;

describe('aws lambda handler over the real SDKs and stand-ins', () => {
  let logs: CloudWatchLogsStandIn;
  let ssm: SsmStandIn;
  const endpoints = () => ({ cloudWatchLogs: logs.endpoint, ssm: ssm.endpoint });
  const reader = () => standInClient(logs.endpoint);

  /** Every stored event of the group's one stream, parsed, by its record key; fails on an event stored twice. */
  async function storedEvents(logGroupName: string): Promise<Map<string, AuditEvent>> {
    const streams = logs.streams(logGroupName);
    assert.equal(streams.length, 1, 'one stream per execution environment');
    // The cluster (CLUSTER_NAME, when the test sets one) follows the prefix.
    assert.match(streams[0]!, /^kube-apiserver-audit-(?:[\w.-]+-)?[0-9a-f]{32}$/);
    const stored = new Map<string, AuditEvent>();
    for (const message of await readStream(reader(), logGroupName, streams[0]!)) {
      const event = JSON.parse(message) as AuditEvent;
      const key = recordKey({ auditID: event.auditID, stage: event.stage, json: message });
      assert.ok(!stored.has(key), `stored twice: ${key}`);
      stored.set(key, event);
    }
    return stored;
  }

  before(async () => {
    logs = await startCloudWatchLogsStandIn({ seed: 3 });
    ssm = await startSsmStandIn();
    ssm.putParameter(TOKEN_PARAMETER, `${TOKEN}\n${NEXT_TOKEN}\n`);
  });
  after(async () => {
    await logs.close();
    await ssm.close();
  });

  describe('one execution environment with tokens from SSM', () => {
    const group = '/aws/eks/corpus/cluster';
    let handler: ProxyHandler;
    const invoke = (event: Parameters<ProxyHandler>[0]) => handler(event, lambdaContext());

    before(async () => {
      logs.createLogGroup(group);
      useEnvironment(endpoints(), { LOG_GROUP_NAME: group, AUTH_TOKEN_PARAMETER: TOKEN_PARAMETER, REDACT_SECRETS: 'false' });
      handler = await coldStart();
    });

    it('stores exactly the fixture events sent as EventLists of 25, and publishes matching metrics', async (t) => {
      const records = plainRecords();
      const expected = firstByKey(records);
      const lists = batches(records, 25);
      const getParameterCalls = ssm.calls.get('GetParameter') ?? 0;

      const contexts = lists.map(() => lambdaContext());
      const { value: results, lines } = await captureOutput(async () => {
        const answers: APIGatewayProxyResult[] = [];
        for (const [index, list] of lists.entries()) {
          answers.push(await handler(proxyEvent({ body: eventList(list.map((r) => r.json)), token: TOKEN }), contexts[index]!));
        }
        return answers;
      });

      assert.ok(lists.length >= 3);
      assert.deepEqual(results.map((result) => result.statusCode), lists.map(() => 200));
      const written = results.reduce((sum, result) => sum + Number(body(result).written), 0);
      const duplicates = results.reduce((sum, result) => sum + Number(body(result).duplicates), 0);
      assert.equal(written, expected.size);
      assert.equal(duplicates, records.length - expected.size);

      // Read back through the SDK: every (auditID, stage) once, each equal to the event as sent.
      const stored = await storedEvents(group);
      assert.deepEqual([...stored.keys()].sort(), [...expected.keys()].sort());
      for (const [key, record] of expected) assert.deepEqual(stored.get(key), JSON.parse(record.json), key);

      assert.equal(ssm.calls.get('GetParameter'), getParameterCalls + 1, 'tokens fetched once per cold start');

      // EMF: one document per invocation with every count, and the cold start once.
      assert.equal(metricSum(lines, 'EventsReceived'), records.length);
      assert.equal(metricSum(lines, 'EventsWritten'), expected.size);
      assert.equal(metricSum(lines, 'EventsDuplicate'), records.length - expected.size);
      // The fixtures are years old: CloudWatch rejects them as too old and the sink stores them stamped now.
      assert.equal(metricSum(lines, 'EventsRestamped'), expected.size);
      assert.equal(metricSum(lines, 'EventsFiltered'), 0);
      assert.equal(metricSum(lines, 'EventsRedacted'), 0);
      assert.equal(metricSum(lines, 'EventsTruncated'), 0);
      assert.equal(metricSum(lines, 'BatchesRejected'), 0);
      assert.equal(metricSum(lines, 'BatchesRefused') + metricSum(lines, 'BatchesFailed'), 0);
      assert.equal(metricSum(lines, 'Bytes'), records.reduce((sum, record) => sum + record.bytes, 0));
      assert.equal(emfMetrics(lines).get('SinkLatency')?.length, lists.length);
      assert.equal(metricSum(lines, 'ColdStart'), 1);
      const emf = lines.filter((line) => line._aws);
      assert.ok(emf.every((line) => (line._aws as { CloudWatchMetrics: { Namespace: string }[] }).CloudWatchMetrics[0]!.Namespace === 'KubeAuditRelay'));

      // Logs: structured, one line per batch, with the invocation's request id.
      const stores = lines.filter((line) => line.message === 'batch stored');
      assert.deepEqual(stores.map((line) => line.function_request_id), contexts.map((context) => context.awsRequestId));
      assert.deepEqual(stores.map((line) => line.received), lists.map((list) => list.length));
      t.diagnostic(`batch durations (ms, first includes the cold start's stream creation): ${stores.map((line) => line.durationMs).join(', ')}; SinkLatency: ${emfMetrics(lines).get('SinkLatency')!.map(Math.round).join(', ')}`);
      assert.ok(!lines.some((line) => JSON.stringify(line).includes(TOKEN)), 'the token is never logged');
    });

    it('answers 401 without a token or with a wrong one, storing nothing; accepts the second token for rotation', async () => {
      const stream = logs.streams(group)[0]!;
      const before = logs.events(group, stream).length;
      const getParameterCalls = ssm.calls.get('GetParameter');
      const list = eventList(plainLines().slice(0, 4));

      const { value, lines } = await captureOutput(async () => ({
        missing: await invoke(proxyEvent({ body: list })),
        wrong: await invoke(proxyEvent({ body: list, token: 'not-the-token-0123456789abcdef' })),
        basic: await invoke(proxyEvent({ body: list, headers: { Authorization: `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}` } })),
      }));
      for (const result of [value.missing, value.wrong, value.basic]) {
        assert.equal(result.statusCode, 401);
        assert.equal(result.headers?.['www-authenticate'], 'Bearer realm="kube-audit-relay"');
      }
      assert.equal(logs.events(group, stream).length, before);
      assert.equal(metricSum(lines, 'BatchesRejected'), 3);
      // By status class: refused (4xx), not failed (5xx).
      assert.equal(metricSum(lines, 'BatchesRefused'), 3);
      assert.equal(metricSum(lines, 'BatchesFailed'), 0);
      assert.equal(lines.filter((line) => line.message === 'batch refused' && line.status === 401).length, 3);

      const rotated = await captureOutput(() => invoke(proxyEvent({ body: list, token: NEXT_TOKEN })));
      // These four events are part of the corpus stored above: accepted, and recognised as already stored.
      assert.equal(rotated.value.statusCode, 200);
      assert.equal(body(rotated.value).duplicates, 4);
      assert.equal(logs.events(group, stream).length, before);
      assert.equal(ssm.calls.get('GetParameter'), getParameterCalls, 'warm invocations do not fetch the token again');
    });

    it('answers health checks and refuses what is not a webhook request', async () => {
      const { value } = await captureOutput(async () => ({
        health: await invoke(proxyEvent({ body: '', method: 'GET', path: '/healthz' })),
        put: await invoke(proxyEvent({ body: '{}', method: 'PUT', token: TOKEN })),
        notProxy: await invoke({ source: 'aws.events' } as unknown as Parameters<ProxyHandler>[0]),
        notJson: await invoke(proxyEvent({ body: '{"kind":"EventList","items":[', token: TOKEN })),
      }));
      assert.equal(value.health.statusCode, 200);
      assert.equal(value.put.statusCode, 405);
      assert.equal(value.put.headers?.allow, 'POST');
      assert.equal(value.notProxy.statusCode, 400);
      assert.match(String(body(value.notProxy).message), /not an API Gateway proxy event/);
      assert.equal(value.notJson.statusCode, 400);
    });
  });

  it('decodes a base64 body, drops by DROP_RULES, redacts REDACT_PATHS and annotates the cluster', async () => {
    const group = '/aws/eks/base64/cluster';
    logs.createLogGroup(group);
    useEnvironment(endpoints(), {
      LOG_GROUP_NAME: group,
      AUTH_TOKEN_PARAMETER: TOKEN_PARAMETER,
      CLUSTER_NAME: 'prod-eu-1',
      REDACT_PATHS: 'requestObject.data',
      DROP_RULES: '- verbs: [delete]',
    });
    const handler = await coldStart();
    const lines = plainLines();
    const all = lines.map(recordFromLine);
    const deletes = all.filter((record) => record.event.verb === 'delete').length;
    assert.ok(deletes > 0);
    const expected = firstByKey(all.filter((record) => record.event.verb !== 'delete'));
    // The ConfigMap changes among the fixtures carry data in their requestObject.
    const withData = [...expected.values()].filter((record) => (record.event.requestObject as { data?: unknown } | undefined)?.data !== undefined);
    assert.ok(withData.length > 0);

    const { value: result, lines: output } = await captureOutput(() =>
      handler(proxyEvent({ body: eventList(lines), token: TOKEN, base64: true }), lambdaContext()),
    );

    assert.equal(result.statusCode, 200, result.body);
    assert.equal(body(result).filtered, deletes);
    assert.equal(metricSum(output, 'EventsFiltered'), deletes);
    assert.equal(body(result).redacted, withData.length);
    assert.equal(metricSum(output, 'EventsRedacted'), withData.length);
    // What REDACT_PATHS=requestObject.data and CLUSTER_NAME promise: the data replaced, both annotated, nothing else changed.
    const wanted = [...expected.values()].map(({ event }) => {
      const copy = structuredClone(event) as AuditEvent & { requestObject?: { data?: unknown } };
      const added: Record<string, string> = { [Annotation.Cluster]: 'prod-eu-1' };
      if (copy.requestObject?.data !== undefined) {
        copy.requestObject.data = '[redacted]';
        added[Annotation.Redacted] = 'requestObject.data';
      }
      copy.annotations = { ...added, ...copy.annotations };
      return copy;
    });
    assert.deepEqual([...(await storedEvents(group)).values()].map(canonical).sort(), wanted.map(canonical).sort());
  });

  it('truncates a 1 MiB event to fit MAX_EVENT_BYTES=262144 (older accounts), annotated and still stored', async () => {
    const old = await startCloudWatchLogsStandIn({ maxEventBytes: 262_144 });
    try {
      const group = '/aws/eks/old-account/cluster';
      old.createLogGroup(group);
      useEnvironment({ cloudWatchLogs: old.endpoint, ssm: ssm.endpoint }, { LOG_GROUP_NAME: group, AUTH_MODE: 'none', MAX_EVENT_BYTES: '262144' });
      const handler = await coldStart();
      // A real RequestResponse event whose ConfigMap grows to 1 MiB, as a large CA bundle or CRD would.
      const source = fixtureRecords().find((record) => record.event.level === 'RequestResponse' && record.event.responseObject)!;
      const big = structuredClone(source.event) as AuditEvent & { responseObject: Record<string, unknown> };
      big.auditID = '5c2f3a1e-6a44-4b8e-9a52-1b2f6c0d9e71';
      big.responseObject = { ...big.responseObject, data: { 'ca-bundle.crt': 'A'.repeat(1_048_576) } };
      const json = JSON.stringify(big);
      assert.ok(Buffer.byteLength(json) > 1_048_576);

      const { value: result, lines } = await captureOutput(() => handler(proxyEvent({ body: eventList([json]) }), lambdaContext()));

      assert.equal(result.statusCode, 200, result.body);
      assert.equal(body(result).truncated, 1);
      assert.equal(metricSum(lines, 'EventsTruncated'), 1);
      const [message, ...rest] = await readStream(standInClient(old.endpoint), group, old.streams(group)[0]!);
      assert.equal(rest.length, 0);
      assert.ok(Buffer.byteLength(message!) + 26 <= 262_144);
      const stored = JSON.parse(message!) as AuditEvent;
      assert.equal(stored.auditID, big.auditID);
      assert.equal(stored.annotations?.[Annotation.Truncated], 'true');
      assert.equal(stored.responseObject, undefined);
      assert.deepEqual(stored.user, big.user);
      assert.deepEqual(stored.objectRef, big.objectRef);
    } finally {
      await old.close();
    }
  });

  it('answers 500 naming every misconfigured variable, logs it, and starts once the configuration is fixed', async () => {
    useEnvironment(endpoints(), { AUTH_TOKEN_PARAMETER: '/kube-audit-relay/prod/missing', MAX_EVENT_BYTES: '2000000' });
    const handler = await coldStart();
    const list = eventList(plainLines().slice(0, 4));

    const broken = await captureOutput(() => handler(proxyEvent({ body: list, token: TOKEN }), lambdaContext()));
    assert.equal(broken.value.statusCode, 500);
    const message = String(body(broken.value).message);
    assert.match(message, /LOG_GROUP_NAME: is required/);
    assert.match(message, /AUTH_TOKEN_PARAMETER: SSM parameter "\/kube-audit-relay\/prod\/missing" does not exist/);
    assert.match(message, /MAX_EVENT_BYTES: must be at most 1048576/);
    const logged = broken.lines.find((line) => line.message === 'configuration is invalid; fix the function environment');
    assert.equal(logged?.level, 'ERROR');
    // The missing parameter also leaves no tokens, which the auth check reports in its own words.
    assert.deepEqual((logged?.problems as string[]).map((problem) => problem.split(':')[0]).sort(), ['AUTH_MODE', 'AUTH_TOKEN_PARAMETER', 'LOG_GROUP_NAME', 'MAX_EVENT_BYTES']);
    assert.equal(metricSum(broken.lines, 'BatchesRejected'), 1);
    // Answered 500, not thrown: Lambda's Errors stays 0, so this is what says the relay is failing.
    assert.equal(metricSum(broken.lines, 'BatchesFailed'), 1);
    assert.equal(metricSum(broken.lines, 'BatchesRefused'), 0);

    useEnvironment(endpoints(), { LOG_GROUP_NAME: '/aws/eks/fixed/cluster' });
    const noAuth = await captureOutput(() => handler(proxyEvent({ body: list, token: TOKEN }), lambdaContext()));
    assert.equal(noAuth.value.statusCode, 500);
    assert.match(String(body(noAuth.value).message), /AUTH_MODE: no caller authentication is configured: set AUTH_TOKEN_PARAMETER, .* or AUTH_MODE=none/);

    logs.createLogGroup('/aws/eks/fixed/cluster');
    useEnvironment(endpoints(), { LOG_GROUP_NAME: '/aws/eks/fixed/cluster', AUTH_TOKEN_PARAMETER: TOKEN_PARAMETER });
    const fixed = await captureOutput(() => handler(proxyEvent({ body: list, token: TOKEN }), lambdaContext()));
    assert.equal(fixed.value.statusCode, 200, fixed.value.body);
    assert.equal(body(fixed.value).written, 4);
  });

  it('gives the sink only the time left before API Gateway and the Lambda give up', async () => {
    const group = '/aws/eks/slow/cluster';
    logs.createLogGroup(group);
    useEnvironment(endpoints(), { LOG_GROUP_NAME: group, AUTH_MODE: 'none' });
    const handler = await coldStart();
    const list = eventList(plainLines().slice(0, 4));
    logs.faults.delayMs = 3_000;
    try {
      const started = Date.now();
      // 2.5 s left in the invocation: 1.5 s are kept for answering, so the sink gets 1 s.
      const { value: result } = await captureOutput(() => handler(proxyEvent({ body: list }), lambdaContext(2_500)));
      const elapsed = Date.now() - started;
      assert.equal(result.statusCode, 503);
      assert.match(String(body(result).message), /the API server will retry the batch/);
      assert.ok(elapsed < 2_000, `answered after ${elapsed} ms`);
    } finally {
      logs.faults.delayMs = 0;
    }
  });
});
