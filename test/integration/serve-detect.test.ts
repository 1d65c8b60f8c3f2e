// serve --detect through the real server: each stored event runs through the detections, each match is one JSON
// log line with identifying fields only, and a retried batch does not log its matches again. With --detect-output,
// each match also goes, best-effort, to a file or a local webhook receiver, which never holds up the answer.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { detectionFixtures } from '../support/detection-fixtures.ts';
import { eventList, send } from '../support/http-client.ts';
import { serveRefusal, startServe } from '../support/serve.ts';
import { startWebhookReceiver } from '../support/webhook-receiver.ts';
import { waitFor } from '../support/wait-for.ts';

const fixtures = detectionFixtures();

describe('serve --detect', () => {
  test('logs exactly the fixture matches, once each, without event content', async () => {
    const server = await startServe(['--detect', '--auth-mode', 'none']);
    try {
      const body = eventList(fixtures.map((fixture) => JSON.stringify(fixture.event)));
      assert.equal((await send(server.url, body)).status, 200);
      // The API server retries a batch it did not see answered: the events are stored once and reported once.
      assert.equal((await send(server.url, body)).status, 200);

      const detections = server.logs().filter((entry) => entry.msg === 'detection');
      const expected = fixtures.flatMap((fixture) => [...fixture.flaggedBy].map((rule) => `${rule} ${fixture.event.auditID}`)).sort();
      assert.deepEqual(detections.map((entry) => `${entry.rule} ${entry.auditID}`).sort(), expected);
      const sample = detections.find((entry) => entry.rule === 'configmap-credentials')!;
      assert.deepEqual(Object.keys(sample).sort(), ['auditID', 'eventTime', 'level', 'msg', 'object', 'rule', 'severity', 'stage', 'time', 'user', 'verb']);
      assert.ok(!JSON.stringify(detections).includes('hunter2'), 'a detection log line carries event content');
      assert.equal(server.stdout().split('\n').filter(Boolean).length, fixtures.length, 'every event stored once');
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });

  test('reports only events a tier stores: those the routing drops were never stored', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kar-detect-tiers-'));
    // Mutations stay hot; every other event (the reads, exec sessions and the rest of the fixtures) is dropped.
    const tiers = join(dir, 'tiers.yaml');
    writeFileSync(tiers, '{default: drop, rules: [{tier: hot, verbs: [create, update, patch, delete, deletecollection]}]}\n');
    const server = await startServe(['--detect', '--auth-mode', 'none', '--tiers', tiers]);
    try {
      assert.equal((await send(server.url, eventList(fixtures.map((fixture) => JSON.stringify(fixture.event))))).status, 200);
      const stored = new Set(server.stdout().split('\n').filter(Boolean).map((line) => (JSON.parse(line) as { auditID: string }).auditID));
      const detections = server.logs().filter((entry) => entry.msg === 'detection');
      const expected = fixtures.filter((fixture) => stored.has(fixture.event.auditID)).flatMap((fixture) => [...fixture.flaggedBy].map((rule) => `${rule} ${fixture.event.auditID}`)).sort();
      assert.ok(stored.size > 0 && stored.size < fixtures.length, `the routing must keep some fixtures and drop others (kept ${stored.size})`);
      assert.ok(expected.length > 0, 'some stored fixture is flagged');
      assert.deepEqual(detections.map((entry) => `${entry.rule} ${entry.auditID}`).sort(), expected);
    } finally {
      assert.equal(await server.stop(), 0);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('without --detect logs no detection', async () => {
    const server = await startServe(['--auth-mode', 'none']);
    try {
      assert.equal((await send(server.url, eventList(fixtures.map((fixture) => JSON.stringify(fixture.event))))).status, 200);
      assert.equal(server.logs().filter((entry) => entry.msg === 'detection').length, 0);
    } finally {
      await server.stop();
    }
  });
});

describe('serve --detect --detect-output', () => {
  const body = eventList(fixtures.map((fixture) => JSON.stringify(fixture.event)));
  const expected = fixtures.flatMap((fixture) => [...fixture.flaggedBy].map((rule) => `${rule} ${fixture.event.auditID}`)).sort();
  const FIELDS = ['auditID', 'object', 'rule', 'severity', 'stage', 'time', 'user', 'verb'];

  /** Polls until `count()` reaches `want`, for at most 10 s (the sends are local and take milliseconds). */
  const until = (count: () => number, want: number): Promise<void> => waitFor(() => count() >= want);

  test('POSTs each match once, as one JSON object, to a webhook', async () => {
    const receiver = await startWebhookReceiver();
    const server = await startServe(['--detect', '--detect-output', receiver.url, '--auth-mode', 'none']);
    try {
      assert.equal((await send(server.url, body)).status, 200);
      assert.equal((await send(server.url, body)).status, 200, 'a retry');
      await until(() => receiver.accepted.length, expected.length);
      const matches = receiver.accepted.map((post) => post.body as unknown as Record<string, unknown>);
      assert.deepEqual(matches.map((match) => `${match.rule} ${match.auditID}`).sort(), expected);
      for (const match of matches) assert.deepEqual(Object.keys(match).sort(), FIELDS);
      assert.ok(!JSON.stringify(matches).includes('hunter2'), 'a match carries event content');
      assert.equal(receiver.accepted[0]!.headers['content-type'], 'application/json');
    } finally {
      await server.stop();
      await receiver.stop();
    }
  });

  test('appends each match as a JSON line to a file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kar-detect-output-'));
    const file = join(dir, 'matches.jsonl');
    const server = await startServe(['--detect', '--detect-output', file, '--auth-mode', 'none']);
    try {
      assert.equal((await send(server.url, body)).status, 200);
      const lines = () => readFileSync(file, 'utf8').split('\n').slice(0, -1);
      await until(() => lines().length, expected.length);
      assert.deepEqual(lines().map((line) => JSON.parse(line) as Record<string, unknown>).map((match) => `${match.rule} ${match.auditID}`).sort(), expected);
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a webhook that is down: every batch still answered 200 promptly, the failures counted in /metrics', async () => {
    const receiver = await startWebhookReceiver();
    await receiver.stop();
    const server = await startServe(['--detect', '--detect-output', receiver.url, '--auth-mode', 'none'], { SINK_TIMEOUT_MS: '1000' });
    try {
      const started = performance.now();
      const answer = await send(server.url, body);
      assert.equal(answer.status, 200, answer.body);
      // The refused webhook takes up to SINK_TIMEOUT_MS per match; the answer waits for none of it. 5 s is far from
      // the matches' total (a second each) and from a local store's milliseconds, however loaded the machine.
      assert.ok(performance.now() - started < 5_000);
      const failed = async () => {
        const metrics = (await send(server.url, undefined, { method: 'GET', path: '/metrics' })).body;
        return Number(new RegExp(`kube_audit_relay_best_effort_events_failed_total\\{output="${receiver.url}"\\} (\\d+)`).exec(metrics)?.[1] ?? 0);
      };
      let count = 0;
      await waitFor(async () => (count = await failed()) > 0, 15_000);
      assert.ok(count > 0, 'a failed match is counted');
    } finally {
      await server.stop();
    }
  });

  test('is refused without --detect, or for an output that cannot take matches', async () => {
    const without = await serveRefusal(['--detect-output', '/tmp/matches.jsonl']);
    assert.equal(without.code, 2);
    assert.match(without.stderr, /--detect-output \(DETECT_OUTPUT\): needs --detect/);
    const archive = await serveRefusal(['--detect', '--detect-output', 's3://bucket/matches/']);
    assert.match(archive.stderr, /--detect-output \(DETECT_OUTPUT\): must be a path, file:\/\/\/PATH or an http\(s\):\/\/ webhook URL/);
  });
});
