// What the three entry points share at their edge: the per-batch log level, the fields of the batch line, the JSON
// answers they give themselves and the 413 message. The strings are the ones each entry point wrote before they shared
// them, so logs, alerts and users see the same text.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { batchLogLevel, batchTally, bodyTooLargeMessage, isAccepted, jsonAnswer } from '../../src/edge.ts';
import { emptyCounts } from '../../src/pipeline.ts';

test('delivered as the API server counts it: 200 through 206, nothing else', () => {
  assert.deepEqual([199, 200, 204, 206, 207, 301, 400, 503].filter(isAccepted), [200, 204, 206]);
});

test('the level of the batch line for every status the pipeline and the entry points answer', () => {
  const levels = Object.fromEntries([200, 400, 401, 405, 408, 413, 415, 500, 503].map((status) => [status, batchLogLevel(status)]));
  assert.deepEqual(levels, { 200: 'info', 400: 'warn', 401: 'warn', 405: 'warn', 408: 'warn', 413: 'warn', 415: 'warn', 500: 'error', 503: 'error' });
  // Not answered today; the API server retries them, so they are not logged as stored.
  assert.equal(batchLogLevel(207), 'warn');
  assert.equal(batchLogLevel(302), 'warn');
});

test('the batch line fields: whole milliseconds, then the counts', () => {
  const counts = { ...emptyCounts(), received: 3, written: 2, duplicates: 1 };
  const tally = batchTally({ durationMs: 12.5, counts });
  assert.deepEqual(Object.keys(tally), ['durationMs', ...Object.keys(counts)]);
  assert.equal(tally.durationMs, 13);
  assert.equal(tally.written, 2);
});

test('a JSON answer of its own: the message as the body, content-type first so extra headers may add to it', () => {
  assert.deepEqual(jsonAnswer(503, 'busy', { 'retry-after': '5' }), {
    status: 503,
    message: 'busy',
    headers: { 'content-type': 'application/json', 'retry-after': '5' },
    body: '{"message":"busy"}',
  });
});

test('the 413 message names the setting, with the length when it is known', () => {
  assert.equal(
    bodyTooLargeMessage(65536, 'MAX_BODY_BYTES', 70000),
    'body of 70000 bytes is over the 65536-byte limit (MAX_BODY_BYTES); lower --audit-webhook-batch-max-size or enable --audit-webhook-truncate-enabled (see kube-audit-relay flags)',
  );
  assert.equal(
    bodyTooLargeMessage(65536, '--max-body-bytes'),
    'body is over the 65536-byte limit (--max-body-bytes); lower --audit-webhook-batch-max-size or enable --audit-webhook-truncate-enabled (see kube-audit-relay flags)',
  );
});
