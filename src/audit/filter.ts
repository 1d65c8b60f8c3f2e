import { ruleMatches, type RuleSelector } from './policy-rule.ts';
import type { AuditEvent } from './types.ts';

export type { GroupResources } from './policy-rule.ts';

/**
 * A receiver-side drop rule, matched like an audit Policy rule: every field that is set must match, and an event that
 * matches any rule is dropped. For managed clusters, where the API server's own policy cannot be changed.
 */
export interface DropRule extends RuleSelector {
  /** Stages to drop; not a Policy field (a Policy says omitStages). Omitted: every stage. */
  readonly stages?: readonly string[];
}

export const DROP_RULE_FIELDS = ['verbs', 'resources', 'namespaces', 'users', 'userGroups', 'nonResourceURLs', 'stages'] as const;

export const shouldDrop = (event: AuditEvent, rules: readonly DropRule[]): boolean =>
  rules.some((rule) => dropRuleMatches(event, rule));

/** Whether one rule matches: its stages, then the audit Policy fields. Tier rules (src/tiers) match the same way. */
export function dropRuleMatches(event: AuditEvent, rule: DropRule): boolean {
  if (rule.stages && rule.stages.length > 0 && !rule.stages.includes(event.stage)) return false;
  return ruleMatches(rule, event);
}
