import type { Condition } from './condition.ts';
import { expandAnyElement } from './field-path.ts';

/** The condition with every `[*]` test replaced by the same test on the first `slots` elements (any of them). */
export function expandArrays(condition: Condition, slots: number): Condition {
  if ('all' in condition) return { all: condition.all.map((part) => expandArrays(part, slots)) };
  if ('any' in condition) return { any: condition.any.map((part) => expandArrays(part, slots)) };
  if ('not' in condition) return { not: expandArrays(condition.not, slots) };
  const paths = expandAnyElement(condition.path, slots);
  if (paths.length === 1) return condition;
  // `absent` holds when every element is absent; every other test when any element passes.
  const tests = paths.map((path) => ({ ...condition, path }));
  return condition.op === 'absent' ? { all: tests } : { any: tests };
}
