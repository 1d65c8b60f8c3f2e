// serve --detect through the real server: each stored event runs through the detections, each match is one JSON
// log line with identifying fields only, and a retried batch does not log its matches again.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { detectionFixtures } from '../support/detection-fixtures.ts';
import { eventList, send } from '../support/http-client.ts';
import { startServe } from '../support/serve.ts';

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
