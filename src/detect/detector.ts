import { dropRuleMatches } from '../audit/filter.ts';
import type { AuditEvent } from '../audit/types.ts';
import { holds } from './condition.ts';
import type { DetectionRule, Severity } from './rule.ts';

/** Whether a rule flags an event: its Policy-style selector (the drop-rule matcher), its conditions, no exception. */
export const ruleFlags = (rule: DetectionRule, event: AuditEvent): boolean =>
  dropRuleMatches(event, rule.match) && holds(rule.where, event) && !holds(rule.exceptions, event);

/** One rule flagging one event: only identifying fields, never the event's content. */
export interface DetectionMatch {
  readonly rule: string;
  readonly severity: Severity;
  readonly auditID: string;
  readonly stage: string;
  readonly user: string;
  readonly verb: string;
  /** resource[/subresource] [namespace/]name, as kubectl would name it. */
  readonly object: string;
  readonly time?: string;
}

/** `pods/exec default/web`, `clusterrolebindings/admin-binding`, `/healthz` for non-resource requests. */
function objectOf(event: AuditEvent): string {
  const ref = event.objectRef;
  if (!ref) return (event.requestURI ?? '').split('?')[0] ?? '';
  const resource = [ref.apiGroup ? `${ref.resource ?? ''}.${ref.apiGroup}` : (ref.resource ?? ''), ref.subresource].filter(Boolean).join('/');
  const name = [ref.namespace, ref.name].filter(Boolean).join('/');
  return name ? `${resource} ${name}` : resource;
}

/** Every rule that flags the event. */
export function detect(rules: readonly DetectionRule[], event: AuditEvent): DetectionMatch[] {
  const time = event.stageTimestamp ?? event.requestReceivedTimestamp ?? event.timestamp;
  return rules
    .filter((rule) => ruleFlags(rule, event))
    .map((rule) => ({
      rule: rule.id,
      severity: rule.severity,
      auditID: event.auditID,
      stage: event.stage,
      user: event.user?.username ?? '',
      verb: event.verb,
      object: objectOf(event),
      ...(time === undefined ? {} : { time }),
    }));
}
