import type { DropRule, GroupResources } from '../audit/filter.ts';
import type { Condition } from './condition.ts';
import { parseFieldPath } from './field-path.ts';
import type { DetectionRule } from './rule.ts';

const path = parseFieldPath;
const oneOf = (field: string, values: readonly string[]): Condition =>
  values.length === 1 ? { path: path(field), op: 'equals', value: values[0]! } : { path: path(field), op: 'in', values };
const isSet = (list: readonly unknown[] | undefined): list is readonly string[] => list !== undefined && list.length > 0;

/** "" or missing: the core API group, a resource without subresource. */
const empty = (field: string): Condition => ({ path: path(field), op: 'absent' });

function resourcePattern(pattern: string): Condition {
  if (pattern === '*') return { all: [] };
  const [resource, subresource] = pattern.split('/') as [string, string | undefined];
  if (subresource === undefined) return { all: [oneOf('objectRef.resource', [resource]), empty('objectRef.subresource')] };
  if (resource === '*') return oneOf('objectRef.subresource', [subresource]);
  if (subresource === '*') return oneOf('objectRef.resource', [resource]);
  return { all: [oneOf('objectRef.resource', [resource]), oneOf('objectRef.subresource', [subresource])] };
}

function groupResources(rule: GroupResources): Condition {
  const group = rule.group ? oneOf('objectRef.apiGroup', [rule.group]) : empty('objectRef.apiGroup');
  if (!isSet(rule.resources)) return { all: [group, { path: path('objectRef.resource'), op: 'exists' }] };
  const names = isSet(rule.resourceNames) ? [oneOf('objectRef.name', rule.resourceNames)] : [];
  return { all: [group, ...names, { any: rule.resources.map(resourcePattern) }] };
}

/**
 * The drop-rule matcher's semantics (src/audit/policy-rule.ts) as a condition, for the generators that compile
 * conditions into queries; the tests check that the two agree on every fixture. nonResourceURLs and the "" namespace
 * are refused by the rule source, so they need no translation here.
 */
function selectorCondition(match: DropRule): Condition {
  const parts: Condition[] = [];
  if (isSet(match.stages)) parts.push(oneOf('stage', match.stages));
  if (isSet(match.users)) parts.push(oneOf('user.username', match.users));
  if (isSet(match.userGroups)) parts.push(oneOf('user.groups[*]', match.userGroups));
  if (isSet(match.verbs)) parts.push(oneOf('verb', match.verbs));
  if (isSet(match.namespaces)) parts.push(oneOf('objectRef.namespace', match.namespaces));
  if (isSet(match.resources)) parts.push({ any: match.resources.map(groupResources) });
  return { all: parts };
}

/** The whole rule as one condition: selector, conditions, and not any exception. */
export const ruleCondition = (rule: DetectionRule): Condition => ({
  all: [
    selectorCondition(rule.match),
    ...('all' in rule.where && rule.where.all.length === 0 ? [] : [rule.where]),
    ...('any' in rule.exceptions && rule.exceptions.any.length === 0 ? [] : [{ not: rule.exceptions }]),
  ],
});
