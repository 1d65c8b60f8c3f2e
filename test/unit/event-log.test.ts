// The audit-log reader replay and cost share: which lines make a batch, where batches are cut, and the line numbers a
// batch came from.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { type BatchCutting, type EventBatch, readEventBatches, type SkippedLine } from '../../src/replay/event-log.ts';

const v1 = (id: string) => JSON.stringify({ kind: 'Event', apiVersion: 'audit.k8s.io/v1', auditID: id, stage: 'ResponseComplete' });
const v1beta1 = (id: string) => JSON.stringify({ kind: 'Event', apiVersion: 'audit.k8s.io/v1beta1', auditID: id, stage: 'ResponseComplete' });

async function read(lines: readonly string[], batchSize: number, cutting?: BatchCutting): Promise<{ batches: EventBatch[]; skipped: SkippedLine[] }> {
  const skipped: SkippedLine[] = [];
  const batches: EventBatch[] = [];
  for await (const batch of readEventBatches(Readable.from([lines.join('\n')]), batchSize, (line) => skipped.push(line), cutting)) batches.push(batch);
  return { batches, skipped };
}

const shape = (batches: readonly EventBatch[]) => batches.map(({ apiVersion, items, lines }) => ({ apiVersion, items: items.length, lines }));

describe('reading an audit log into batches', () => {
  test('each batch says which lines it holds; blank lines and lines that are not events are left out', async () => {
    const { batches, skipped } = await read([v1('a'), '', v1('b'), 'not json', v1('c'), '{"kind":"EventList","items":[]}', v1('d')], 2);
    assert.deepEqual(shape(batches), [
      { apiVersion: 'audit.k8s.io/v1', items: 2, lines: [1, 3] },
      { apiVersion: 'audit.k8s.io/v1', items: 2, lines: [5, 7] },
    ]);
    assert.deepEqual(skipped, [
      { line: 4, reason: 'not JSON' },
      { line: 6, reason: 'not an audit event (no auditID)' },
    ]);
  });

  test('by default a batch is cut where the log changes API version, as two API servers would send it', async () => {
    const { batches } = await read([v1('a'), v1beta1('b'), v1beta1('c'), v1('d')], 10);
    assert.deepEqual(shape(batches), [
      { apiVersion: 'audit.k8s.io/v1', items: 1, lines: [1, 1] },
      { apiVersion: 'audit.k8s.io/v1beta1', items: 2, lines: [2, 3] },
      { apiVersion: 'audit.k8s.io/v1', items: 1, lines: [4, 4] },
    ]);
  });

  test('cut by size alone: a batch with both versions is v1, one of v1beta1 events alone stays v1beta1', async () => {
    const { batches } = await read([v1beta1('a'), v1('b'), v1beta1('c'), v1beta1('d'), v1beta1('e')], 3, { byApiVersion: false });
    assert.deepEqual(shape(batches), [
      { apiVersion: 'audit.k8s.io/v1', items: 3, lines: [1, 3] },
      { apiVersion: 'audit.k8s.io/v1beta1', items: 2, lines: [4, 5] },
    ]);
  });
});
