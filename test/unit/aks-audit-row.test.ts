import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Annotation } from '../../src/audit/annotations.ts';
import { AKS_AUDIT_COLUMNS, MAX_FIELD_BYTES, prune, toAksAuditRow } from '../../src/sinks/aks-audit-row.ts';
import { isPrunedFrom } from '../support/pruned.ts';
import { fixtureLines } from '../support/event-lists.ts';
import { recordFromLine, renderLine } from '../support/records.ts';

const bytes = (value: unknown) => Buffer.byteLength(typeof value === 'string' ? value : JSON.stringify(value), 'utf8');
const columns = new Set<string>(AKS_AUDIT_COLUMNS.map((column) => column.name));

describe('AKSAudit rows', () => {
  it('maps every fixture event field for field, cutting only fields over 64 KB and saying which', () => {
    let cutEvents = 0;
    let largeEvents = 0;
    for (const line of fixtureLines()) {
      const record = renderLine(line, { cluster: 'prod-1' });
      const event = record.event;
      const { row } = toAksAuditRow(record);
      for (const key of Object.keys(row)) assert.ok(columns.has(key), `unexpected column ${key}`);
      for (const value of Object.values(row)) assert.ok(bytes(value) <= MAX_FIELD_BYTES);
      const cut = new Set(String(row.Annotations && (row.Annotations as Record<string, string>)[Annotation.TruncatedFields] || '').split(',').filter(Boolean));
      if (cut.size > 0) cutEvents++;
      if (Object.values(event).some((value) => bytes(value) > MAX_FIELD_BYTES)) largeEvents++;
      const expectField = (column: string, value: unknown, field: string) => {
        if (cut.has(field)) {
          assert.ok(bytes(value) > MAX_FIELD_BYTES - 1024, `${field} of ${event.auditID} was cut though it is small`);
          assert.ok(isPrunedFrom(row[column as keyof typeof row], value), `${column} of ${event.auditID} is not a pruned copy`);
        } else {
          assert.deepEqual(row[column as keyof typeof row], value, `${column} of ${event.auditID}`);
        }
      };
      expectField('Level', event.level, 'level');
      expectField('Stage', event.stage, 'stage');
      expectField('RequestUri', event.requestURI, 'requestURI');
      expectField('Verb', event.verb, 'verb');
      expectField('User', event.user, 'user');
      expectField('ImpersonatedUser', event.impersonatedUser, 'impersonatedUser');
      expectField('SourceIps', event.sourceIPs, 'sourceIPs');
      expectField('UserAgent', event.userAgent, 'userAgent');
      expectField('ObjectRef', event.objectRef, 'objectRef');
      expectField('ResponseStatus', event.responseStatus, 'responseStatus');
      expectField('RequestObject', event.requestObject, 'requestObject');
      expectField('ResponseObject', event.responseObject, 'responseObject');
      assert.equal(row.AuditId, event.auditID);
      assert.equal(row.StageReceivedTime, event.stageTimestamp);
      assert.equal(row.RequestReceivedTime, event.requestReceivedTimestamp ?? event.timestamp);
      assert.equal(row.TimeGenerated, event.stageTimestamp ?? event.requestReceivedTimestamp ?? new Date(record.timestamp).toISOString());
      assert.equal(row.Cluster, 'prod-1');
      const { [Annotation.Truncated]: _, [Annotation.TruncatedFields]: __, ...rest } = (row.Annotations ?? {}) as Record<string, string>;
      assert.deepEqual(rest, Object.fromEntries(Object.entries(event.annotations ?? {}).filter(([key]) => cut.size === 0 || !key.endsWith('truncated'))));
    }
    // The OpenShift capture holds objects over 64 KB: the cut path is exercised by real events, and only by those.
    assert.equal(cutEvents, largeEvents);
    assert.ok(cutEvents > 0);
  });

  it('cuts a 300 KB request object, a 100 KB user agent and 200 KB of annotations to valid JSON, and says so', () => {
    const line = JSON.stringify({
      kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: 'RequestResponse', auditID: 'big-1', stage: 'ResponseComplete',
      requestURI: '/api/v1/namespaces/default/configmaps', verb: 'create', user: { username: 'alice' },
      userAgent: 'é'.repeat(50_000),
      requestObject: { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'big' }, data: { blob: 'x'.repeat(300_000), after: 'y' } },
      annotations: { 'example.com/huge': 'z'.repeat(200_000), 'authorization.k8s.io/decision': 'allow' },
      requestReceivedTimestamp: '2024-05-01T10:00:00.000000Z', stageTimestamp: '2024-05-01T10:00:00.100000Z',
    });
    const record = recordFromLine(line);
    const { row, truncated } = toAksAuditRow(record);
    assert.ok(truncated);
    const annotations = row.Annotations as Record<string, string>;
    assert.equal(annotations[Annotation.Truncated], 'true');
    assert.deepEqual(annotations[Annotation.TruncatedFields]!.split(',').sort(), ['annotations', 'requestObject', 'userAgent']);
    assert.equal(annotations['authorization.k8s.io/decision'], 'allow', 'small annotations are kept whole when a large one is cut');
    for (const value of Object.values(row)) assert.ok(bytes(value) <= MAX_FIELD_BYTES);
    assert.ok(isPrunedFrom(row.RequestObject, record.event.requestObject));
    assert.deepEqual((row.RequestObject as { metadata: unknown }).metadata, { name: 'big' });
    assert.ok(bytes(row.RequestObject) > MAX_FIELD_BYTES - 64, 'the cut keeps as much as fits');
    assert.ok((row.UserAgent as string).length > 30_000 && record.event.userAgent!.startsWith(row.UserAgent as string));
    // The event the pipeline holds is not changed by building its row.
    assert.equal(record.event.annotations![Annotation.Truncated], undefined);
  });

  it('adds to the truncation list the pipeline already wrote', () => {
    const record = recordFromLine(JSON.stringify({
      level: 'Metadata', auditID: 'a-2', stage: 'ResponseComplete', requestURI: '/x', verb: 'get', user: { username: 'bob', extra: { k: ['v'.repeat(70_000)] } },
      annotations: { [Annotation.Truncated]: 'true', [Annotation.TruncatedFields]: 'requestObject,responseObject' },
    }));
    const { row, truncated } = toAksAuditRow(record);
    assert.equal((row.Annotations as Record<string, string>)[Annotation.TruncatedFields], 'requestObject,responseObject,user');
    assert.equal(truncated, false, 'counted once, by the pipeline');
  });

  it('prune keeps a member named __proto__ as a member, not as the prototype', () => {
    const value = JSON.parse(`{"__proto__":{"polluted":"yes"},"big":"${'x'.repeat(200)}"}`) as Record<string, unknown>;
    const part = prune(value, 100) as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(part), Object.prototype);
    assert.ok(Object.hasOwn(part, '__proto__'));
    assert.equal((part as { polluted?: string }).polluted, undefined);
    assert.ok(JSON.stringify(part).startsWith('{"__proto__":{"polluted":"yes"},"big":"xxx'));
    assert.ok(isPrunedFrom(part, value));
  });

  it('prune returns valid JSON within the budget that is a pruned copy of the input', () => {
    fc.assert(
      fc.property(fc.jsonValue().map((value) => JSON.parse(JSON.stringify(value)) as unknown), fc.integer({ min: 0, max: 400 }), (value, budget) => {
        const part = prune(value, budget);
        if (part === undefined) return true;
        assert.ok(bytes(JSON.stringify(part)) <= budget);
        assert.deepEqual(JSON.parse(JSON.stringify(part)), part);
        assert.ok(isPrunedFrom(part, value));
        if (bytes(JSON.stringify(value)) <= budget) assert.deepEqual(part, value);
        return true;
      }),
      { numRuns: 3000 },
    );
  });
});
