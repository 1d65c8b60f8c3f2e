import { randomUUID } from 'node:crypto';
import { Annotation } from '../audit/annotations.ts';
import { type AuditEvent, Level, Stage } from '../audit/types.ts';

/** Who the canary says made the request; a drop rule naming this user would filter it. */
export const CANARY_USERNAME = 'kube-audit-relay:doctor';

/** MicroTime as the API server writes it: UTC, `Z`, six fractional digits. */
const microTime = (ms: number): string => new Date(ms).toISOString().replace(/Z$/, '000Z');

/**
 * One synthetic event, shaped like the API server's (no kind/apiVersion on the item), marked with
 * `kube-audit-relay.io/canary: "true"` so that it can be told apart from real audit wherever it is stored.
 */
export function canaryEvent(now: number, version: string): AuditEvent {
  const time = microTime(now);
  return {
    level: Level.Metadata,
    auditID: randomUUID(),
    stage: Stage.ResponseComplete,
    requestURI: '/kube-audit-relay/canary',
    verb: 'get',
    user: { username: CANARY_USERNAME },
    userAgent: `kube-audit-relay-doctor/${version}`,
    responseStatus: { metadata: {}, code: 200 },
    requestReceivedTimestamp: time,
    stageTimestamp: time,
    annotations: { [Annotation.Canary]: 'true' },
  };
}

/** The EventList body the API server would POST, holding only the canary. */
export function canaryBatch(event: AuditEvent): string {
  return JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', metadata: {}, items: [event] });
}
