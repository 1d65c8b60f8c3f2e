import { dropRuleMatches, type DropRule } from '../audit/filter.ts';
import type { AuditEvent } from '../audit/types.ts';

/** Where an event is stored, from most to least useful. */
export const Tier = {
  /** Searchable and alertable: a CloudWatch log group of the Standard class, a Log Analytics table on the Analytics plan. */
  Hot: 'hot',
  /** Cheap to ingest, slower or limited to query: the Infrequent Access class, a table on the Basic or Auxiliary plan. */
  Cold: 'cold',
  /** Object storage only (the outputs' archive). */
  Archive: 'archive',
  /** Not stored. */
  Drop: 'drop',
} as const;
export type Tier = (typeof Tier)[keyof typeof Tier];

export const TIERS: readonly Tier[] = Object.values(Tier);

/**
 * One routing rule: the drop rules' fields (audit Policy semantics plus `stages`), two more a Policy cannot express,
 * and the tier for the events it matches.
 */
export interface TierRule extends DropRule {
  /** hot, cold, archive or drop. */
  readonly tier: Tier;
  /** responseStatus.code values, e.g. [401, 403]; omitted: any code. */
  readonly responseCodes?: readonly number[];
  /** true: only impersonated requests (impersonatedUser set); false: only others; omitted: either. */
  readonly impersonated?: boolean;
  /** Why the rule exists; not matched, for the reader. */
  readonly why?: string;
}

/** Fields a tier rule may set besides `tier`. */
export const TIER_RULE_MATCH_FIELDS = ['verbs', 'resources', 'namespaces', 'users', 'userGroups', 'nonResourceURLs', 'stages', 'responseCodes', 'impersonated', 'why'] as const;

/** Whether events are also copied to the archive: never, or always (each kept event goes to its tier and the archive). */
export const ArchiveCopy = { Never: 'never', Always: 'always' } as const;
export type ArchiveCopy = (typeof ArchiveCopy)[keyof typeof ArchiveCopy];

/** A routing: rules in order, the first that matches decides, `default` when none does. */
export interface TierRouting {
  readonly rules: readonly TierRule[];
  /** The tier of events no rule matches. */
  readonly default: Tier;
  /** `always`: every event not dropped is also archived. Default never. */
  readonly archive: ArchiveCopy;
}

function tierRuleMatches(rule: TierRule, event: AuditEvent): boolean {
  if (rule.responseCodes && rule.responseCodes.length > 0 && !rule.responseCodes.includes(event.responseStatus?.code ?? -1)) return false;
  if (rule.impersonated !== undefined && rule.impersonated !== Boolean(event.impersonatedUser?.username)) return false;
  return dropRuleMatches(event, rule);
}

/** The tier of one event: the first matching rule's, else the default. */
export const routeTier = (routing: TierRouting, event: AuditEvent): Tier =>
  routing.rules.find((rule) => tierRuleMatches(rule, event))?.tier ?? routing.default;

/** Every place an event goes: its tier, plus the archive when `archive: always` (nothing for drop). */
export function destinations(routing: TierRouting, event: AuditEvent): Tier[] {
  const tier = routeTier(routing, event);
  if (tier === Tier.Drop) return [];
  return routing.archive === ArchiveCopy.Always && tier !== Tier.Archive ? [tier, Tier.Archive] : [tier];
}
