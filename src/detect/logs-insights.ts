import type { Condition, Scalar } from './condition.ts';
import { expandArrays } from './expand.ts';
import { ArraySlots, type FieldPath } from './field-path.ts';
import type { DetectionRule } from './rule.ts';
import { ruleCondition } from './selector-condition.ts';

/** A field as Logs Insights names a JSON event's fields: dotted, array elements by index, backticks around others. */
function field(path: FieldPath): string {
  const name = path.map((segment) => ('key' in segment ? segment.key : 'index' in segment ? String(segment.index) : '*')).join('.');
  return /^[A-Za-z0-9_.@]+$/.test(name) ? name : `\`${name}\``;
}

// Logs Insights turns JSON booleans into 1 and 0.
const literal = (value: Scalar): string => (typeof value === 'string' ? `"${value}"` : typeof value === 'boolean' ? (value ? '1' : '0') : String(value));
const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

function compile(condition: Condition): string {
  if ('all' in condition) return condition.all.length === 0 ? '1 = 1' : `(${condition.all.map(compile).join(' and ')})`;
  if ('any' in condition) return condition.any.length === 0 ? '1 = 0' : `(${condition.any.map(compile).join(' or ')})`;
  if ('not' in condition) return `not ${compile(condition.not)}`;
  const name = field(condition.path);
  switch (condition.op) {
    case 'equals':
      return `${name} = ${literal(condition.value)}`;
    case 'in':
      return `${name} in [${condition.values.map(literal).join(', ')}]`;
    case 'prefix':
      return `${name} like /^${escapeRegex(condition.value)}/`;
    case 'contains':
      // Insights flattens objects into one field per key, so the text is searched in the whole event.
      return `@message like /${escapeRegex(condition.value)}/`;
    case 'exists':
      return `ispresent(${name})`;
    case 'absent':
      return `(not ispresent(${name}) or ${name} = "")`;
    case 'gte':
      return `${name} >= ${condition.value}`;
    case 'lt':
      return `${name} < ${condition.value}`;
  }
}

/** The fields every detection query shows: who, what, on which object, from where; never the objects' content. */
const INSIGHTS_FIELDS = '@timestamp, auditID, user.username, verb, objectRef.resource, objectRef.subresource, objectRef.namespace, objectRef.name, responseStatus.code, sourceIPs.0, userAgent';

/** The rule's saved Logs Insights query; threshold rules count per user in the rule's window. */
export function insightsQuery(rule: DetectionRule): string {
  const filter = `filter ${compile(expandArrays(ruleCondition(rule), ArraySlots.Queries))}`;
  if (rule.threshold) {
    return [filter, `stats count(*) as matches by user.username, bin(${rule.threshold.minutes}m)`, `filter matches >= ${rule.threshold.count}`, 'sort matches desc'].join('\n| ');
  }
  return [`fields ${INSIGHTS_FIELDS}`, filter, 'sort @timestamp desc'].join('\n| ');
}

/** Investigation queries: replace the quoted placeholder before running. */
export const INSIGHTS_INVESTIGATIONS = {
  'timeline-of-one-user': [`fields ${INSIGHTS_FIELDS}`, 'filter user.username = "USERNAME" or impersonatedUser.username = "USERNAME"', 'sort @timestamp asc'].join('\n| '),
  'everything-that-touched-one-object': [`fields ${INSIGHTS_FIELDS}`, 'filter objectRef.resource = "RESOURCE" and objectRef.namespace = "NAMESPACE" and objectRef.name = "NAME"', 'sort @timestamp asc'].join('\n| '),
} as const;
