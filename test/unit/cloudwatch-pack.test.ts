import assert from 'node:assert/strict';
import { it } from 'node:test';
import fc from 'fast-check';
import { packCalls, packLowerBound, PUT_LOG_EVENTS_LIMITS } from '../../src/sinks/cloudwatch-pack.ts';

const limits = PUT_LOG_EVENTS_LIMITS;
const item = fc.record({
  timestamp: fc.integer({ min: 0, max: 4 * 24 * 3_600_000 }),
  bytes: fc.oneof(fc.integer({ min: 1, max: 2_000 }), fc.integer({ min: 1, max: limits.maxBytes - limits.overheadBytes })),
});

it('every call keeps every limit, is sorted, and all items appear once', () => {
  fc.assert(
    fc.property(fc.array(item, { maxLength: 300 }), (items) => {
      const calls = packCalls(items, limits);
      assert.equal(calls.flat().length, items.length);
      assert.deepEqual(new Set(calls.flat()), new Set(items));
      for (const call of calls) {
        assert.ok(call.length >= 1 && call.length <= limits.maxEvents);
        assert.ok(call.reduce((sum, i) => sum + i.bytes + limits.overheadBytes, 0) <= limits.maxBytes);
        assert.ok(call.every((i, n) => n === 0 || call[n - 1]!.timestamp <= i.timestamp));
        assert.ok(call[call.length - 1]!.timestamp - call[0]!.timestamp <= limits.maxSpanMs);
      }
      assert.ok(calls.length >= packLowerBound(items, limits));
    }),
    { numRuns: 200 },
  );
});

it('uses the fewest calls for equal-sized events within a day', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 30_000 }), fc.integer({ min: 1, max: 5_000 }), (count, bytes) => {
      const items = Array.from({ length: count }, (_, i) => ({ timestamp: i, bytes }));
      const perCall = Math.min(limits.maxEvents, Math.floor(limits.maxBytes / (bytes + limits.overheadBytes)));
      assert.equal(packCalls(items, limits).length, Math.ceil(count / perCall));
    }),
    { numRuns: 30 },
  );
});

it('puts events further apart than 24 hours in separate calls', () => {
  const items = [{ timestamp: 0, bytes: 10 }, { timestamp: limits.maxSpanMs, bytes: 10 }, { timestamp: limits.maxSpanMs + 1, bytes: 10 }];
  assert.deepEqual(packCalls(items, limits).map((call) => call.length), [2, 1]);
  assert.equal(packLowerBound(items, limits), 2);
});
