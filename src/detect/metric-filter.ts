import type { Condition, FieldTest } from './condition.ts';
import { expandArrays } from './expand.ts';
import { ArraySlots, type FieldPath } from './field-path.ts';

/** CloudWatch Logs' limit on a filter pattern's length. */
export const MAX_FILTER_PATTERN_LENGTH = 1024;

/** A condition the JSON filter-pattern grammar cannot state (a key with dots or slashes, a `*` inside a value). */
export class InexpressibleError extends Error {
  override readonly name = 'InexpressibleError';
}

type Leaf = { readonly path: FieldPath } & FieldTest;

function selector(path: FieldPath): string {
  return `$${path
    .map((segment) => {
      if ('index' in segment) return `[${segment.index}]`;
      if ('anyElement' in segment) throw new InexpressibleError('[*] must be expanded first');
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(segment.key)) throw new InexpressibleError(`the key '${segment.key}' cannot be written in a selector`);
      return `.${segment.key}`;
    })
    .join('')}`;
}

function literal(value: string | number, prefix = false): string {
  if (typeof value === 'number') return String(value);
  // `*` is the pattern's wildcard: a value holding one would match more than the rule says.
  if (value.includes('*')) throw new InexpressibleError(`the value '${value}' holds *, the pattern wildcard`);
  return `"${value}${prefix ? '*' : ''}"`;
}

const or = (parts: readonly string[]) => (parts.length === 1 ? parts[0]! : `(${parts.join(' || ')})`);
const and = (parts: readonly string[]) => (parts.length === 1 ? parts[0]! : `(${parts.join(' && ')})`);

function positive(leaf: Leaf): string {
  const field = selector(leaf.path);
  switch (leaf.op) {
    case 'equals':
      return typeof leaf.value === 'boolean' ? `${field} IS ${leaf.value ? 'TRUE' : 'FALSE'}` : `${field} = ${literal(leaf.value)}`;
    case 'in':
      return or(leaf.values.map((value) => positive({ path: leaf.path, op: 'equals', value })));
    case 'prefix':
      return `${field} = ${literal(leaf.value, true)}`;
    case 'contains':
      throw new InexpressibleError('a filter pattern cannot search inside an object');
    case 'exists':
      return `${field} = "*"`;
    case 'absent':
      return `(${field} NOT EXISTS || ${field} IS NULL || ${field} = "")`;
    case 'gte':
      return `${field} >= ${leaf.value}`;
    case 'lt':
      return `${field} < ${leaf.value}`;
  }
}

/** The comparisons that must all fail for a negated leaf, without the NOT EXISTS escape (added once per field). */
function refusals(leaf: Leaf): string[] {
  const field = selector(leaf.path);
  switch (leaf.op) {
    case 'equals':
      return typeof leaf.value === 'boolean' ? [`${field} IS ${leaf.value ? 'FALSE' : 'TRUE'}`] : [`${field} != ${literal(leaf.value)}`];
    case 'in':
      return leaf.values.flatMap((value) => refusals({ path: leaf.path, op: 'equals', value }));
    case 'prefix':
      return [`${field} != ${literal(leaf.value, true)}`];
    case 'gte':
      return [`${field} < ${leaf.value}`];
    case 'lt':
      return [`${field} >= ${leaf.value}`];
    default:
      throw new InexpressibleError(`'not ${leaf.op}' has no filter-pattern form`);
  }
}

/** A negated leaf: the field is missing or null (no comparison matches those), or every comparison refuses. */
function negatedGroup(leaves: readonly Leaf[]): string {
  const field = selector(leaves[0]!.path);
  if (leaves.length === 1 && leaves[0]!.op === 'exists') return `(${field} NOT EXISTS || ${field} IS NULL)`;
  return `(${field} NOT EXISTS || ${field} IS NULL || ${and(leaves.flatMap(refusals))})`;
}

function emit(condition: Condition, negated: boolean): string {
  if ('not' in condition) return emit(condition.not, !negated);
  if ('all' in condition || 'any' in condition) {
    const parts = 'all' in condition ? condition.all : condition.any;
    const conjunction = 'all' in condition !== negated;
    if (parts.length === 0) throw new InexpressibleError('an empty condition has no filter-pattern form');
    if (conjunction && negated) {
      // not(a or b or ...) on one field: one NOT EXISTS and the refusals, instead of one NOT EXISTS per value.
      const leaves = parts.filter((part): part is Leaf => 'path' in part && part.op !== 'exists');
      const byField = new Map<string, Leaf[]>();
      for (const leaf of leaves) byField.set(selector(leaf.path), [...(byField.get(selector(leaf.path)) ?? []), leaf]);
      const rest = parts.filter((part) => !leaves.includes(part as Leaf)).map((part) => emit(part, true));
      return and([...[...byField.values()].map(negatedGroup), ...rest]);
    }
    const emitted = parts.map((part) => emit(part, negated));
    return conjunction ? and(emitted) : or(emitted);
  }
  return negated ? negatedGroup([condition]) : positive(condition);
}

/** Drops empty `all` parts (always true) so they need no syntax, and flattens and-in-and, or-in-or. */
function simplify(condition: Condition): Condition | undefined {
  if ('not' in condition) {
    const inner = simplify(condition.not);
    return inner === undefined ? { any: [] } : { not: inner };
  }
  if ('all' in condition) {
    const parts = condition.all.map(simplify).flatMap((part) => (part === undefined ? [] : 'all' in part ? part.all : [part]));
    return parts.length === 0 ? undefined : parts.length === 1 ? parts[0] : { all: parts };
  }
  if ('any' in condition) {
    const parts = condition.any.map((part) => simplify(part) ?? { all: [] }).flatMap((part) => ('any' in part ? part.any : [part]));
    return parts.length === 1 ? parts[0] : { any: parts };
  }
  return condition;
}

/**
 * The condition as a CloudWatch Logs JSON filter pattern (`{ $.verb = "create" && ... }`), with `[*]` checked on the
 * first ArraySlots.MetricFilters elements. Throws InexpressibleError when the grammar cannot state it or it is too long.
 */
export function metricFilterPattern(condition: Condition): string {
  const simple = simplify(expandArrays(condition, ArraySlots.MetricFilters));
  if (simple === undefined) throw new InexpressibleError('a rule that matches everything needs no filter');
  const body = emit(simple, false);
  const pattern = `{ ${body.startsWith('(') && body.endsWith(')') && balanced(body.slice(1, -1)) ? body.slice(1, -1) : body} }`;
  if (pattern.length > MAX_FILTER_PATTERN_LENGTH) throw new InexpressibleError(`the pattern is ${pattern.length} characters, over CloudWatch's ${MAX_FILTER_PATTERN_LENGTH}`);
  return pattern;
}

function balanced(text: string): boolean {
  let depth = 0;
  for (const char of text) {
    if (char === '(') depth++;
    else if (char === ')' && --depth < 0) return false;
  }
  return depth === 0;
}
