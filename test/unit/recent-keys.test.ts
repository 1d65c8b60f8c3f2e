// The bounded memory of stored keys that lets sinks skip a retried batch's events.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RecentKeys } from '../../src/sinks/recent-keys.ts';

test('once full, each added key forgets the oldest; adding a known key again makes it the newest', () => {
  const keys = new RecentKeys(3);
  for (const key of ['a', 'b', 'c', 'a', 'd']) keys.add(key);
  assert.equal(keys.size, 3);
  assert.deepEqual(['a', 'b', 'c', 'd'].map((key) => keys.has(key)), [true, false, true, true]);
  keys.add('e');
  assert.deepEqual(['a', 'c', 'd', 'e'].map((key) => keys.has(key)), [true, false, true, true]);
});

test('forgetting keys costs the same however many were forgotten before (600,000 keys through 100,000 places)', () => {
  // Looking for the oldest key anew each time walked every slot freed before it: a minute for 600,000 keys, which
  // held a 600,000-event batch (and every other request) that long. Now about a second even on a loaded machine.
  const keys = new RecentKeys(100_000);
  const started = performance.now();
  for (let i = 0; i < 600_000; i++) keys.add(`key-${i}`);
  const seconds = (performance.now() - started) / 1000;
  assert.equal(keys.size, 100_000);
  assert.ok(keys.has('key-599999') && !keys.has('key-499999'));
  assert.ok(seconds < 15, `${seconds.toFixed(1)} s`);
});
