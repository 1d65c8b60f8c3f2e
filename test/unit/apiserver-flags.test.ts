import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fittingBatchSize } from '../../src/cost/estimate.ts';
import { bodyBudget, largestBatchBytes, RECEIVER_LIMITS, type Platform } from '../../src/generate/apiserver-flags.ts';
import { runCommand } from '../support/cli.ts';
import { fixtureRecords } from '../support/records.ts';

async function flagsFor(platform: string, rate: number, maxEventBytes: number): Promise<Map<string, string>> {
  const result = await runCommand(['flags', '--platform', platform, '--events-per-second', String(rate), '--max-event-bytes', String(maxEventBytes)]);
  assert.equal(result.code, 0, result.stderr);
  const flags = new Map<string, string>();
  for (const line of result.stdout.split('\n')) {
    if (line.startsWith('#') || line === '') continue;
    const match = /^(--[a-z-]+)=(.+)$/.exec(line);
    assert.ok(match, `not a flag line: ${line}`);
    flags.set(match[1]!, match[2]!);
  }
  return flags;
}

/**
 * The POST the API server would send: batch-max-size real corpus events, each truncated as the API server's truncate
 * backend does (bodies removed when over the max event size) and then padded with `"` characters (the worst case for
 * escaping: two body bytes each, four in a Lambda proxy event) up to exactly the max event size.
 */
function worstCaseBatch(size: number, maxEventBytes: number): string {
  const events = fixtureRecords()
    .map((record) => record.event)
    .sort((a, b) => JSON.stringify(b).length - JSON.stringify(a).length);
  const items: string[] = [];
  for (let index = 0; index < size; index += 1) {
    const event = { ...events[index % events.length]! };
    if (Buffer.byteLength(JSON.stringify(event)) > maxEventBytes) {
      delete event.requestObject;
      delete event.responseObject;
      event.annotations = { ...event.annotations, 'audit.k8s.io/truncated': 'true' };
    }
    const bare = Buffer.byteLength(JSON.stringify({ ...event, annotations: { ...event.annotations, pad: '' } }));
    assert.ok(bare <= maxEventBytes, 'a truncated corpus event fits the max event size');
    const padded = JSON.stringify({ ...event, annotations: { ...event.annotations, pad: '"'.repeat(Math.floor((maxEventBytes - bare) / 2)) } });
    items.push(padded);
  }
  return `{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":[${items.join(',')}]}`;
}

/** The API Gateway REST proxy event Lambda receives for a POST of this body (what the 6 MB limit counts). */
const lambdaProxyEvent = (body: string): string =>
  JSON.stringify({
    resource: '/{proxy+}',
    path: '/prod/audit',
    httpMethod: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json, */*', Authorization: 'Bearer x'.padEnd(200, 'x'), 'User-Agent': 'kube-apiserver-admission' },
    multiValueHeaders: {},
    requestContext: { accountId: '123456789012', stage: 'prod', requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef', identity: { sourceIp: '10.0.0.1', vpceId: 'vpce-0123456789abcdef0' } },
    body,
    isBase64Encoded: false,
  });

/** The buffer memory budget `flags` keeps to unless told otherwise: 512 MiB. */
const BUFFER_BUDGET = 512 * 1024 * 1024;

describe('flags', () => {
  const platforms: Platform[] = ['aws', 'azure', 'local'];
  const rates = [1, 50, 500, 5_000, 50_000];
  const eventSizes = [4_096, 102_400, 1_048_576];

  for (const platform of platforms) {
    test(`${platform}: for every rate and event size the batch bound, throttle and buffer hold`, async () => {
      const budget = bodyBudget(RECEIVER_LIMITS[platform]);
      for (const rate of rates) {
        for (const maxEventBytes of eventSizes) {
          const flags = await flagsFor(platform, rate, maxEventBytes);
          const batch = Number(flags.get('--audit-webhook-batch-max-size'));
          const at = `${platform} ${rate}/s ${maxEventBytes} B`;
          assert.equal(flags.get('--audit-webhook-mode'), 'batch', at);
          assert.equal(flags.get('--audit-webhook-truncate-enabled'), 'true', at);
          assert.equal(Number(flags.get('--audit-webhook-truncate-max-event-size')), maxEventBytes, at);
          assert.ok(batch >= 1 && batch <= 400, at);
          assert.ok(128 + batch * (maxEventBytes + 1) <= budget, `${at}: ${batch} events exceed ${budget}`);
          assert.ok(batch === 400 || 128 + (batch + 1) * (maxEventBytes + 1) > budget, `${at}: ${batch} is needlessly small`);
          const qps = Number(flags.get('--audit-webhook-batch-throttle-qps'));
          assert.ok(qps * batch >= 2 * rate, `${at}: qps ${qps} x ${batch} < 2 x ${rate}`);
          assert.ok(Number(flags.get('--audit-webhook-batch-throttle-burst')) >= qps, at);
          const buffer = Number(flags.get('--audit-webhook-batch-buffer-size'));
          assert.ok(buffer >= Math.min(Math.max(10_000, 600 * rate), Math.floor(BUFFER_BUDGET / maxEventBytes)), `${at}: buffer ${buffer} is needlessly small`);
          assert.ok(buffer * maxEventBytes <= BUFFER_BUDGET, `${at}: buffer ${buffer} can take more than 512 MiB`);
          assert.ok(buffer >= batch, `${at}: buffer ${buffer} holds less than a batch`);
          assert.ok(Number(flags.get('--audit-webhook-truncate-max-batch-size')) >= maxEventBytes, at);
        }
      }
    });
  }

  test('aws: a full batch of the largest corpus events padded to the max size fits Lambda\'s 6 MB even when every pad byte is escaped', async () => {
    for (const maxEventBytes of [16_384, 102_400, 262_144]) {
      const flags = await flagsFor('aws', 100, maxEventBytes);
      const batch = Number(flags.get('--audit-webhook-batch-max-size'));
      const body = worstCaseBatch(batch, maxEventBytes);
      const event = lambdaProxyEvent(body);
      assert.ok(Buffer.byteLength(event) <= 6_000_000, `${batch} x ${maxEventBytes}: proxy event of ${Buffer.byteLength(event)} bytes`);
    }
  });

  test('local: a full batch at the max event size is under serve\'s default MAX_BODY_BYTES', async () => {
    const flags = await flagsFor('local', 100, 102_400);
    const batch = Number(flags.get('--audit-webhook-batch-max-size'));
    assert.equal(batch, 400);
    assert.ok(Buffer.byteLength(worstCaseBatch(batch, 102_400)) <= 64 * 1024 * 1024);
  });

  test('the buffer is capped to the stated memory budget, and --buffer-memory-mib raises it', async () => {
    // arrange: 10 minutes at 100 events/s want 60,000 events; at 100 KiB each that is 5.9 GiB at worst
    const capped = await runCommand(['flags', '--platform', 'local', '--max-event-bytes', '102400']);
    const raised = await flagsFor('local', 100, 102_400);
    const roomy = await runCommand(['flags', '--platform', 'local', '--max-event-bytes', '102400', '--buffer-memory-mib', '8192']);

    // assert
    assert.match(capped.stdout, /^--audit-webhook-batch-buffer-size=5242$/m);
    assert.match(capped.stdout, /^# {3}capped at 5242 events \(52 s of outage\) .*\n# {3}under the 512\.0 MiB memory budget; raise it with --buffer-memory-mib/m);
    assert.equal(raised.get('--audit-webhook-batch-buffer-size'), '5242');
    assert.match(roomy.stdout, /^--audit-webhook-batch-buffer-size=60000$/m);
    assert.doesNotMatch(roomy.stdout, /capped at/);
  });

  test('the reasoning is printed as comments naming the limit', async () => {
    const result = await runCommand(['flags', '--platform', 'aws']);
    assert.match(result.stdout, /^# .*Lambda takes at most 6 MB per synchronous invocation/m);
    assert.match(result.stdout, /^# throttle: 100 events\/s in batches of 28/m);
  });

  test('refusals: missing or unknown platform, an event size no batch can hold, a rate that is not a number', async () => {
    const cases: [string[], RegExp][] = [
      [[], /--platform is required: one of aws, azure, local/],
      [['--platform', 'gcp'], /unknown --platform 'gcp': use one of aws, azure, local/],
      [['--platform', 'aws', '--max-event-bytes', '4000000'], /--max-event-bytes 4000000 leaves no room for even one event in a 2967232-byte body on aws: lower --max-event-bytes/],
      [['--platform', 'aws', '--events-per-second', 'lots'], /--events-per-second must be a whole number from 1 to 1000000, got 'lots'/],
      [['--platform', 'aws', '--max-event-bytes', '100'], /--max-event-bytes must be a whole number from 1024/],
      [['--platform', 'local', '--max-event-bytes', '1048576', '--buffer-memory-mib', '16'], /a buffer of one batch \(62 events of 1048576 bytes\) needs 62\.0 MiB, over the 16\.0 MiB buffer memory budget: lower --max-event-bytes or raise --buffer-memory-mib/],
      [['--platform', 'local', '--buffer-memory-mib', '0'], /--buffer-memory-mib must be a whole number from 1/],
    ];
    for (const [args, message] of cases) {
      const result = await runCommand(['flags', ...args]);
      assert.equal(result.code, 2, args.join(' '));
      assert.match(result.stderr, message);
    }
  });
});

test('kube-audit-relay flags and cost size batches alike: the most events that fit, at most 400', async () => {
  for (const platform of ['aws', 'azure'] as const) {
    for (const maxEventBytes of [1024, 8 * 1024, 100 * 1024, 1024 * 1024]) {
      const size = fittingBatchSize(platform, maxEventBytes);
      const flags = await flagsFor(platform, 100, maxEventBytes);
      assert.equal(Number(flags.get('--audit-webhook-batch-max-size')), size, `${platform} ${maxEventBytes}`);
      const budget = bodyBudget(RECEIVER_LIMITS[platform]);
      assert.ok(largestBatchBytes(size, maxEventBytes) <= budget, `${platform} ${maxEventBytes}: ${size} events fit`);
      assert.ok(size === 400 || largestBatchBytes(size + 1, maxEventBytes) > budget, `${platform} ${maxEventBytes}: ${size + 1} would not`);
    }
  }
});
