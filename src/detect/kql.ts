import type { Condition, Scalar } from './condition.ts';
import { expandArrays } from './expand.ts';
import { ArraySlots, type FieldPath } from './field-path.ts';
import type { DetectionRule } from './rule.ts';
import { ruleCondition } from './selector-condition.ts';

/** The Log Analytics table the relay writes (infra/azure/azuredeploy.json), shaped like AKSAudit. */
const KQL_TABLE = 'KubeAudit_CL';

/** Which column holds each top-level event field (src/sinks/aks-audit-row.ts writes them so). */
const COLUMN: Readonly<Record<string, { readonly name: string; readonly dynamic: boolean }>> = {
  level: { name: 'Level', dynamic: false },
  auditID: { name: 'AuditId', dynamic: false },
  stage: { name: 'Stage', dynamic: false },
  requestURI: { name: 'RequestUri', dynamic: false },
  verb: { name: 'Verb', dynamic: false },
  userAgent: { name: 'UserAgent', dynamic: false },
  user: { name: 'User', dynamic: true },
  impersonatedUser: { name: 'ImpersonatedUser', dynamic: true },
  sourceIPs: { name: 'SourceIps', dynamic: true },
  objectRef: { name: 'ObjectRef', dynamic: true },
  responseStatus: { name: 'ResponseStatus', dynamic: true },
  requestObject: { name: 'RequestObject', dynamic: true },
  responseObject: { name: 'ResponseObject', dynamic: true },
  annotations: { name: 'Annotations', dynamic: true },
};

const quote = (text: string) => `"${text}"`;

/** The column expression and whether it is dynamic (so needs tostring/toint/tobool). */
function access(path: FieldPath): { text: string; dynamic: boolean } {
  const [head, ...rest] = path;
  const column = head && 'key' in head ? COLUMN[head.key] : undefined;
  if (!column) throw new Error(`no column of ${KQL_TABLE} holds the event field '${head && 'key' in head ? head.key : '?'}'`);
  const tail = rest.map((segment) => ('index' in segment ? `[${segment.index}]` : 'key' in segment ? (/^[A-Za-z_][A-Za-z0-9_]*$/.test(segment.key) ? `.${segment.key}` : `[${quote(segment.key)}]`) : '[*]')).join('');
  return { text: `${column.name}${tail}`, dynamic: column.dynamic || rest.length > 0 };
}

const typed = (path: FieldPath, sample: Scalar): string => {
  const { text, dynamic } = access(path);
  if (!dynamic) return text;
  return typeof sample === 'number' ? `toint(${text})` : typeof sample === 'boolean' ? `tobool(${text})` : `tostring(${text})`;
};
const literal = (value: Scalar) => (typeof value === 'string' ? quote(value) : String(value));

function compile(condition: Condition): string {
  if ('all' in condition) return condition.all.length === 0 ? 'true' : `(${condition.all.map(compile).join(' and ')})`;
  if ('any' in condition) return condition.any.length === 0 ? 'false' : `(${condition.any.map(compile).join(' or ')})`;
  if ('not' in condition) return `not(${compile(condition.not)})`;
  switch (condition.op) {
    case 'equals':
      return `${typed(condition.path, condition.value)} == ${literal(condition.value)}`;
    case 'in':
      return `${typed(condition.path, condition.values[0]!)} in (${condition.values.map(literal).join(', ')})`;
    case 'prefix':
      return `${typed(condition.path, '')} startswith_cs ${quote(condition.value)}`;
    case 'contains':
      return `${typed(condition.path, '')} contains_cs ${quote(condition.value)}`;
    case 'exists':
      return `gettype(${access(condition.path).text}) == "string"`;
    case 'absent':
      return `isempty(${typed(condition.path, '')})`;
    case 'gte':
      return `${typed(condition.path, 0)} >= ${condition.value}`;
    case 'lt':
      return `${typed(condition.path, 0)} < ${condition.value}`;
  }
}

/** The columns every detection query shows: who, what, on which object, from where; never the objects' content. */
const PROJECT = 'project TimeGenerated, Cluster, AuditId, User = tostring(User.username), Verb, Resource = tostring(ObjectRef.resource), Subresource = tostring(ObjectRef.subresource), Namespace = tostring(ObjectRef.namespace), Name = tostring(ObjectRef.name), Code = toint(ResponseStatus.code), SourceIps, UserAgent';

/** The rule's KQL query over the relay's table; threshold rules count per user in the rule's window. */
export function kqlQuery(rule: DetectionRule): string {
  const where = `where ${compile(expandArrays(ruleCondition(rule), ArraySlots.Queries))}`;
  if (rule.threshold) {
    return [KQL_TABLE, where, `summarize Matches = count() by User = tostring(User.username), Cluster, bin(TimeGenerated, ${rule.threshold.minutes}m)`, `where Matches >= ${rule.threshold.count}`].join('\n| ');
  }
  return [KQL_TABLE, where, PROJECT, 'order by TimeGenerated desc'].join('\n| ');
}

/** Investigation queries: replace the quoted placeholder in the let statement before running. */
export const KQL_INVESTIGATIONS = {
  'timeline-of-one-user': `let who = "USERNAME";\n${KQL_TABLE}\n| where tostring(User.username) == who or tostring(ImpersonatedUser.username) == who\n| ${PROJECT}\n| order by TimeGenerated asc`,
  'everything-that-touched-one-object': `let resource = "RESOURCE"; let namespace = "NAMESPACE"; let name = "NAME";\n${KQL_TABLE}\n| where tostring(ObjectRef.resource) == resource and tostring(ObjectRef.namespace) == namespace and tostring(ObjectRef.name) == name\n| ${PROJECT}\n| order by TimeGenerated asc`,
} as const;
