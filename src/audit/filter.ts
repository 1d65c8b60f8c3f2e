import type { AuditEvent } from './types.ts';

/** Resources in one API group, written as in an audit Policy: `pods`, `pods/exec`, `*`, `*\/scale`. */
export interface GroupResources {
  /** API group; "" or omitted is the core group, as in a Policy. */
  readonly group?: string;
  /** Omitted or empty: every resource in the group. */
  readonly resources?: readonly string[];
  /** Object names; omitted or empty: any name. */
  readonly resourceNames?: readonly string[];
}

/**
 * A receiver-side drop rule, matched like an audit Policy rule: every field that is set must match, and an event that
 * matches any rule is dropped. For managed clusters, where the API server's own policy cannot be changed.
 */
export interface DropRule {
  readonly verbs?: readonly string[];
  readonly resources?: readonly GroupResources[];
  /** Namespaces; "" matches cluster-scoped resources. */
  readonly namespaces?: readonly string[];
  readonly users?: readonly string[];
  readonly userGroups?: readonly string[];
  /** Paths such as `/healthz` or `/metrics*` (a trailing `*` matches any suffix). */
  readonly nonResourceURLs?: readonly string[];
  readonly stages?: readonly string[];
}

export const DROP_RULE_FIELDS = ['verbs', 'resources', 'namespaces', 'users', 'userGroups', 'nonResourceURLs', 'stages'] as const;

export const shouldDrop = (event: AuditEvent, rules: readonly DropRule[]): boolean =>
  rules.some((rule) => matches(event, rule));

/** As kubernetes/apiserver's policy checker (ruleMatches): an empty list is the same as an unset one. */
function matches(event: AuditEvent, rule: DropRule): boolean {
  if (isSet(rule.verbs) && !rule.verbs.includes(event.verb)) return false;
  if (isSet(rule.stages) && !rule.stages.includes(event.stage)) return false;
  if (isSet(rule.users) && !rule.users.includes(event.user?.username ?? '')) return false;
  const { userGroups } = rule;
  if (isSet(userGroups) && !(event.user?.groups ?? []).some((group) => userGroups.includes(group))) return false;

  const ref = event.objectRef;
  if (isSet(rule.namespaces) || isSet(rule.resources)) {
    if (!ref) return false;
    if (isSet(rule.namespaces) && !rule.namespaces.includes(ref.namespace ?? '')) return false;
    if (!isSet(rule.resources)) return true;
    return rule.resources.some((groupResources) => matchesResource(groupResources, ref.apiGroup ?? '', ref));
  }
  if (isSet(rule.nonResourceURLs)) {
    if (ref) return false;
    const path = (event.requestURI ?? '').split('?')[0] ?? '';
    return rule.nonResourceURLs.some((pattern) => matchesPath(pattern, path));
  }
  return true;
}

const isSet = <T>(list: readonly T[] | undefined): list is readonly T[] => list !== undefined && list.length > 0;

function matchesPath(pattern: string, path: string): boolean {
  if (pattern === '*') return true;
  return pattern.endsWith('*') ? path.startsWith(pattern.slice(0, -1)) : path === pattern;
}

/** As kubernetes/apiserver's policy checker (ruleMatchesResource): `pods` does not match `pods/log`; `*\/log` and `pods/*` do. */
function matchesResource(rule: GroupResources, group: string, ref: NonNullable<AuditEvent['objectRef']>): boolean {
  if ((rule.group ?? '') !== group) return false;
  if (!rule.resources || rule.resources.length === 0) return true;
  if (rule.resourceNames?.length && !rule.resourceNames.includes(ref.name ?? '')) return false;
  const resource = ref.resource ?? '';
  const subresource = ref.subresource ?? '';
  const combined = subresource ? `${resource}/${subresource}` : resource;
  return rule.resources.some(
    (pattern) =>
      pattern === '*' ||
      pattern === combined ||
      (subresource !== '' && pattern.startsWith('*/') && pattern.slice(2) === subresource) ||
      (pattern.endsWith('/*') && pattern.slice(0, -2) === resource),
  );
}
