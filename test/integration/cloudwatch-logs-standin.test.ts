// The stand-in must reject what CloudWatch Logs rejects, with the same error names, as the SDK reports them.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  DescribeLogStreamsCommand,
  FilterLogEventsCommand,
  type InputLogEvent,
  PutLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { standInClient } from '../support/cloudwatch-client.ts';
import { type CloudWatchLogsStandIn, startCloudWatchLogsStandIn } from '../../tools/dev/cloudwatch-logs-standin.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('cloudwatch logs stand-in, through the real SDK', () => {
  let standIn: CloudWatchLogsStandIn;
  let client: ReturnType<typeof standInClient>;
  const logGroupName = 'g';
  const logStreamName = 's';
  const put = (logEvents: InputLogEvent[]) => client.send(new PutLogEventsCommand({ logGroupName, logStreamName, logEvents }));
  const rejectsWith = (promise: Promise<unknown>, name: string, status = 400) =>
    assert.rejects(promise, (error: Error & { $metadata?: { httpStatusCode?: number } }) => {
      assert.equal(error.name, name);
      assert.equal(error.$metadata?.httpStatusCode, status);
      return true;
    });

  before(async () => {
    standIn = await startCloudWatchLogsStandIn({ seed: 7 });
    client = standInClient(standIn.endpoint);
    await client.send(new CreateLogGroupCommand({ logGroupName }));
    await client.send(new CreateLogStreamCommand({ logGroupName, logStreamName }));
  });
  after(() => standIn.close());

  it('answers missing and existing resources as the service does', async () => {
    await rejectsWith(client.send(new CreateLogGroupCommand({ logGroupName })), 'ResourceAlreadyExistsException');
    await rejectsWith(client.send(new CreateLogStreamCommand({ logGroupName, logStreamName })), 'ResourceAlreadyExistsException');
    await rejectsWith(client.send(new CreateLogStreamCommand({ logGroupName: 'none', logStreamName })), 'ResourceNotFoundException');
    await rejectsWith(client.send(new PutLogEventsCommand({ logGroupName, logStreamName: 'none', logEvents: [{ timestamp: Date.now(), message: 'm' }] })), 'ResourceNotFoundException');
    const streams = await client.send(new DescribeLogStreamsCommand({ logGroupName, logStreamNamePrefix: 's' }));
    assert.deepEqual(streams.logStreams?.map((stream) => stream.logStreamName), ['s']);
  });

  it('refuses unsigned calls, another content type and a body that is not a JSON object, as the service does', async () => {
    const call = async (headers: Record<string, string>, body: string) => {
      const response = await fetch(standIn.endpoint, {
        method: 'POST',
        headers: { 'x-amz-target': 'Logs_20140328.DescribeLogStreams', ...headers },
        body,
      });
      return { status: response.status, type: ((await response.json()) as { __type: string }).__type };
    };
    const signed = { authorization: 'AWS4-HMAC-SHA256 Credential=AKID/20261123/eu-west-1/logs/aws4_request', 'content-type': 'application/x-amz-json-1.1' };
    assert.deepEqual(await call({ 'content-type': signed['content-type'] }, '{}'), { status: 400, type: 'com.amazonaws.logs#MissingAuthenticationTokenException' });
    assert.deepEqual(await call({ ...signed, 'content-type': 'application/json' }, '{}'), { status: 400, type: 'com.amazonaws.logs#SerializationException' });
    for (const body of ['{"logGroupName":', '[]', '"g"']) {
      assert.deepEqual(await call(signed, body), { status: 400, type: 'com.amazonaws.logs#SerializationException' }, body);
    }
    assert.equal((await call(signed, JSON.stringify({ logGroupName }))).status, 200);
  });

  it('rejects calls over the count, byte, event-size, order and span limits', async () => {
    const now = Date.now();
    await rejectsWith(put(Array.from({ length: 10_001 }, () => ({ timestamp: now, message: 'm' }))), 'InvalidParameterException');
    // 1,048,576 bytes exactly pass; one more byte fails.
    const exact = 'x'.repeat(1_048_576 / 2 - 26);
    assert.equal((await put([{ timestamp: now, message: exact }, { timestamp: now, message: exact }])).rejectedLogEventsInfo, undefined);
    await rejectsWith(put([{ timestamp: now, message: exact }, { timestamp: now, message: `${exact}x` }]), 'InvalidParameterException');
    await rejectsWith(put([{ timestamp: now, message: 'x'.repeat(1_048_576 - 25) }]), 'InvalidParameterException');
    await rejectsWith(put([{ timestamp: now, message: 'b' }, { timestamp: now - 1, message: 'a' }]), 'InvalidParameterException');
    await rejectsWith(put([{ timestamp: now - DAY - 1, message: 'a' }, { timestamp: now, message: 'b' }]), 'InvalidParameterException');
    await rejectsWith(put([]), 'InvalidParameterException');
  });

  it('enforces a 262,144-byte event maximum when so configured', async () => {
    const small = await startCloudWatchLogsStandIn({ maxEventBytes: 262_144 });
    try {
      const smallClient = standInClient(small.endpoint);
      small.createLogGroup(logGroupName);
      await smallClient.send(new CreateLogStreamCommand({ logGroupName, logStreamName }));
      const send = (bytes: number) =>
        smallClient.send(new PutLogEventsCommand({ logGroupName, logStreamName, logEvents: [{ timestamp: Date.now(), message: 'x'.repeat(bytes) }] }));
      await send(262_144 - 26);
      await rejectsWith(send(262_144 - 25), 'InvalidParameterException');
    } finally {
      await small.close();
    }
  });

  it('reports too old, expired and too new events with the documented index semantics', async () => {
    {
      const now = Date.now();
      // A call may not span 24 h, so too-old and too-new events are tried in separate calls.
      const old = await put([
        { timestamp: now - 15 * DAY, message: 'old-1' },
        { timestamp: now - 15 * DAY + 1, message: 'old-2' },
        { timestamp: now - 15 * DAY + 2 * HOUR, message: 'old-3' },
      ]);
      const fresh = await put([{ timestamp: now, message: 'kept' }, { timestamp: now + 3 * HOUR, message: 'new' }]);
      // tooOldLogEventEndIndex is exclusive, tooNewLogEventStartIndex inclusive.
      assert.deepEqual(old.rejectedLogEventsInfo, { tooOldLogEventEndIndex: 3 });
      assert.deepEqual(fresh.rejectedLogEventsInfo, { tooNewLogEventStartIndex: 1 });
      assert.ok(standIn.events(logGroupName, logStreamName).some((event) => event.message === 'kept'));
      assert.ok(!standIn.events(logGroupName, logStreamName).some((event) => event.message.startsWith('old') || event.message === 'new'));
    }
    standIn.createLogGroup('retained', 1);
    await client.send(new CreateLogStreamCommand({ logGroupName: 'retained', logStreamName }));
    const expired = await client.send(new PutLogEventsCommand({
      logGroupName: 'retained',
      logStreamName,
      logEvents: [{ timestamp: Date.now() - DAY - HOUR, message: 'expired' }, { timestamp: Date.now() - DAY + HOUR, message: 'kept' }],
    }));
    assert.deepEqual(expired.rejectedLogEventsInfo, { expiredLogEventEndIndex: 1 });
  });

  it('filters by stream and time range with pagination', async () => {
    const base = Date.now() - HOUR;
    await client.send(new CreateLogStreamCommand({ logGroupName, logStreamName: 'paged' }));
    await client.send(new PutLogEventsCommand({
      logGroupName,
      logStreamName: 'paged',
      logEvents: Array.from({ length: 25 }, (_, i) => ({ timestamp: base + i, message: `e${i}` })),
    }));
    const seen: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await client.send(new FilterLogEventsCommand({ logGroupName, logStreamNames: ['paged'], startTime: base + 5, endTime: base + 19, limit: 4, nextToken }));
      seen.push(...(page.events ?? []).map((event) => event.message ?? ''));
      nextToken = page.nextToken;
    } while (nextToken);
    assert.deepEqual(seen, Array.from({ length: 15 }, (_, i) => `e${i + 5}`));
  });

  it('injects throttling, 500s, a seeded failure rate and counts calls', async () => {
    const before = standIn.calls.get('DescribeLogStreams') ?? 0;
    const describe = () => client.send(new DescribeLogStreamsCommand({ logGroupName }));
    standIn.faults.throttleNext(1);
    await rejectsWith(describe(), 'ThrottlingException');
    standIn.faults.failNext(1);
    await rejectsWith(describe(), 'ServiceUnavailableException', 500);
    await describe();
    standIn.faults.failureRate = 0.5;
    let failures = 0;
    for (let i = 0; i < 40; i++) await describe().catch(() => failures++);
    standIn.faults.failureRate = 0;
    assert.ok(failures > 5 && failures < 35, `${failures} of 40 failed at rate 0.5`);
    assert.equal((standIn.calls.get('DescribeLogStreams') ?? 0) - before, 43);
  });

  it('simulates an outage after some calls succeed, counting faulted calls', async () => {
    const describe = () => client.send(new DescribeLogStreamsCommand({ logGroupName }));
    const faultedBefore = standIn.faulted.get('DescribeLogStreams') ?? 0;
    standIn.faults.failAfter(2, 3);
    const outcomes: string[] = [];
    for (let i = 0; i < 6; i++) outcomes.push(await describe().then(() => 'ok', (error: Error) => error.name));
    assert.deepEqual(outcomes, ['ok', 'ok', 'ServiceUnavailableException', 'ServiceUnavailableException', 'ServiceUnavailableException', 'ok']);
    assert.equal((standIn.faulted.get('DescribeLogStreams') ?? 0) - faultedBefore, 3);
  });
});
