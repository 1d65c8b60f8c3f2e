import type { AuditEvent } from './types.ts';

/** Resources in one API group, written as in an audit Policy: `pods`, `pods/exec`, `*`, `*\/scale`, `pods/*`. */
export interface GroupResources {
  /** API group; "" or omitted is the core group. */
  readonly group?: string;
  /** Omitted or empty: every resource in the group. */
  readonly resources?: readonly string[];
  /** Object names; omitted or empty: any name. */
  readonly resourceNames?: readonly string[];
}

/** The fields of an audit Policy rule that select requests; an omitted or empty list matches anything. */
export interface RuleSelector {
  readonly users?: readonly string[];
  readonly userGroups?: readonly string[];
  readonly verbs?: readonly string[];
  readonly resources?: readonly GroupResources[];
  /** Namespaces; "" matches cluster-scoped resources. */
  readonly namespaces?: readonly string[];
  /** Paths such as `/healthz` or `/metrics*` (a trailing `*` matches any suffix); never matches a resource request. */
  readonly nonResourceURLs?: readonly string[];
}

const isSet = (list: readonly unknown[] | undefined): list is readonly unknown[] => list !== undefined && list.length > 0;

/**
 * Whether a request, as its audit event describes it, matches a rule: the semantics of kubernetes/apiserver
 * pkg/audit/policy/checker.go (ruleMatches). A request is a resource request when its event has an objectRef.
 * When namespaces or resources are set, nonResourceURLs are not consulted (the API server's validation refuses
 * rules that set both).
 */
export function ruleMatches(rule: RuleSelector, event: AuditEvent): boolean {
  if (isSet(rule.users) && !rule.users.includes(event.user?.username ?? '')) return false;
  if (isSet(rule.userGroups) && !(event.user?.groups ?? []).some((group) => rule.userGroups?.includes(group))) return false;
  if (isSet(rule.verbs) && !rule.verbs.includes(event.verb)) return false;
  if (isSet(rule.namespaces) || isSet(rule.resources)) return matchesResourceRequest(rule, event);
  if (isSet(rule.nonResourceURLs)) {
    if (event.objectRef) return false;
    const path = (event.requestURI ?? '').split('?')[0] ?? '';
    return rule.nonResourceURLs.some((pattern) => pathMatches(pattern, path));
  }
  return true;
}

function pathMatches(pattern: string, path: string): boolean {
  if (pattern === '*' || pattern === path) return true;
  return pattern.endsWith('*') && path.startsWith(pattern.replace(/\*+$/, ''));
}

function matchesResourceRequest(rule: RuleSelector, event: AuditEvent): boolean {
  const ref = event.objectRef;
  if (!ref) return false;
  if (isSet(rule.namespaces) && !rule.namespaces.includes(ref.namespace ?? '')) return false;
  if (!isSet(rule.resources)) return true;
  return rule.resources.some((groupResources) => matchesGroupResources(groupResources, ref));
}

/** `pods` does not match `pods/log`; `*\/log`, `pods/*` and `*` do; resourceNames narrow every entry of the group. */
function matchesGroupResources(rule: GroupResources, ref: NonNullable<AuditEvent['objectRef']>): boolean {
  if ((rule.group ?? '') !== (ref.apiGroup ?? '')) return false;
  if (!isSet(rule.resources)) return true;
  if (isSet(rule.resourceNames) && !rule.resourceNames.includes(ref.name ?? '')) return false;
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
