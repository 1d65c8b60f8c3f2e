import { evaluatePolicy, recordedStages, type AuditPolicy } from '../audit/policy.ts';
import { Level, type AuditEvent } from '../audit/types.ts';

/** How much a policy records of a sample of requests. */
export interface PolicyVolume {
  /** Distinct requests in the sample (distinct auditIDs). */
  readonly requests: number;
  /** Events the API server would write for them. */
  readonly events: number;
  /** events per 1,000 requests, rounded. */
  readonly eventsPer1000: number;
  /** Requests per level decided. */
  readonly requestsByLevel: Readonly<Record<Level, number>>;
}

/**
 * Evaluates a policy for each distinct request (by auditID) that a sample of audit events describes and counts the
 * events the API server would write for them under it.
 */
export function measurePolicyVolume(policy: AuditPolicy, events: readonly AuditEvent[]): PolicyVolume {
  const requests = new Map<string, AuditEvent>();
  for (const event of events) {
    if (!requests.has(event.auditID) || event.stage === 'ResponseComplete') requests.set(event.auditID, event);
  }
  const requestsByLevel: Record<Level, number> = { None: 0, Metadata: 0, Request: 0, RequestResponse: 0 };
  let recorded = 0;
  for (const request of requests.values()) {
    const decision = evaluatePolicy(policy, request);
    requestsByLevel[decision.level] += 1;
    recorded += recordedStages(decision, request).length;
  }
  return {
    requests: requests.size,
    events: recorded,
    eventsPer1000: requests.size === 0 ? 0 : Math.round((recorded * 1000) / requests.size),
    requestsByLevel,
  };
}
