import type { Condition } from './condition.ts';
import { expandAnyElement } from './field-path.ts';

/** The condition with every `[*]` test replaced by the same test on the first ARRAY_SLOTS elements (any of them). */
export function expandArrays(condition: Condition): Condition {
  if ('all' in condition) return { all: condition.all.map(expandArrays) };
  if ('any' in condition) return { any: condition.any.map(expandArrays) };
  if ('not' in condition) return { not: expandArrays(condition.not) };
  const paths = expandAnyElement(condition.path);
  if (paths.length === 1) return condition;
  // `absent` holds when every element is absent; every other test when any element passes.
  const tests = paths.map((path) => ({ ...condition, path }));
  return condition.op === 'absent' ? { all: tests } : { any: tests };
}
