// The records the tests hand to sinks (test/support/records.ts) are the ones the pipeline hands its sink for the same
// line: same time, API version, text, length and key, for every fixture line and for the lines whose time the
// pipeline has to look for. A helper that computed any of these itself drifted once: it gave items without an
// apiVersion none, and an event whose stageTimestamp is empty or unparseable the time of the test run (or NaN).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readPipelineConfig, SettingsReader } from '../../src/config.ts';
import { createPipeline } from '../../src/pipeline.ts';
import type { LogRecord } from '../../src/record.ts';
import { storedAll, type Sink } from '../../src/sinks/sink.ts';
import { fixtureLines } from '../support/event-lists.ts';
import { recordFromLine, renderLine } from '../support/records.ts';
import { sendContext } from '../support/send-context.ts';

const RECEIVED_AT = Date.parse('2026-11-22T21:00:00Z');

/** What the pipeline hands its sink for one line posted alone: no credentials, no redaction, received at RECEIVED_AT. */
async function pipelineRecord(line: string, cluster?: string): Promise<LogRecord> {
  const stored: LogRecord[] = [];
  const sink: Sink = {
    name: 'capture',
    maxRecordBytes: Number.MAX_SAFE_INTEGER,
    send: async (records) => {
      stored.push(...records);
      return storedAll(records.length, 1);
    },
    close: async () => {},
  };
  const reader = new SettingsReader({ AUTH_MODE: 'none', REDACT_SECRETS: 'false', ...(cluster ? { CLUSTER_NAME: cluster } : {}) });
  const config = readPipelineConfig(reader);
  reader.finish();
  const result = await createPipeline({ config, sink, now: () => RECEIVED_AT }).receive(
    { method: 'POST', path: '/audit', headers: {}, body: Buffer.from(line) },
    sendContext().signal,
  );
  assert.equal(result.status, 200, result.message);
  assert.equal(stored.length, 1);
  return stored[0]!;
}

const fields = (record: LogRecord) => ({
  auditID: record.auditID,
  stage: record.stage,
  timestamp: record.timestamp,
  json: record.json,
  bytes: record.bytes,
  apiVersion: record.apiVersion,
  cluster: record.cluster,
  key: record.key,
  event: record.event,
});

const event = (times: Record<string, unknown>): string =>
  JSON.stringify({ kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: 'Metadata', auditID: 'time-1', stage: 'ResponseComplete', verb: 'get', requestURI: '/api', user: { username: 'alice' }, ...times });

describe("the tests' records are the pipeline's", () => {
  test('for every fixture line, items without kind or apiVersion included', async () => {
    const lines = fixtureLines();
    assert.ok(lines.some((line) => !('apiVersion' in (JSON.parse(line) as object))), 'the fixtures hold an item without apiVersion');
    for (const line of lines) assert.deepEqual(fields(recordFromLine(line)), fields(await pipelineRecord(line)));
  });

  test('the time of an event whose stageTimestamp is empty, unparseable or absent', async () => {
    const lines = [
      event({ stageTimestamp: '', requestReceivedTimestamp: '2026-11-22T20:59:59.123456Z' }),
      event({ stageTimestamp: 'yesterday', requestReceivedTimestamp: '2026-11-22T20:59:58.000000Z' }),
      event({ requestReceivedTimestamp: '2026-11-22T20:59:57.000000Z' }),
      event({ stageTimestamp: null, timestamp: '2026-11-22T20:59:56.000000Z' }),
    ];
    for (const line of lines) {
      const expected = await pipelineRecord(line);
      assert.ok(expected.timestamp < RECEIVED_AT, 'each line carries a time of its own, before it was received');
      assert.equal(recordFromLine(line).timestamp, expected.timestamp, line);
    }
  });

  test('the receive time of an event with none, and the cluster the pipeline adds', async () => {
    const line = event({});
    assert.deepEqual(fields(renderLine(line, { receivedAt: RECEIVED_AT, cluster: 'prod-eu' })), fields(await pipelineRecord(line, 'prod-eu')));
  });
});
