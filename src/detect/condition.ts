import { valuesAt, type FieldPath } from './field-path.ts';

export type Scalar = string | number | boolean;

/**
 * A test on one field. Every test but `absent` holds when ANY value the path reaches passes it (a `[*]` path reaches
 * several); `absent` holds when the path reaches nothing, null or "".
 */
export type FieldTest =
  | { readonly op: 'equals'; readonly value: Scalar }
  | { readonly op: 'in'; readonly values: readonly Scalar[] }
  | { readonly op: 'prefix'; readonly value: string }
  /** A string holding the text, or an object or array whose JSON text holds it (ConfigMap data, whatever its keys). */
  | { readonly op: 'contains'; readonly value: string }
  /** The field holds a string (any string, "" included): what a metric filter's `= "*"` matches. */
  | { readonly op: 'exists' }
  | { readonly op: 'absent' }
  | { readonly op: 'gte'; readonly value: number }
  | { readonly op: 'lt'; readonly value: number };

/** A condition over an audit event; every generator (local, CloudWatch, KQL) compiles this one tree. */
export type Condition =
  | { readonly all: readonly Condition[] }
  | { readonly any: readonly Condition[] }
  | { readonly not: Condition }
  | ({ readonly path: FieldPath } & FieldTest);

function passes(test: FieldTest, value: unknown): boolean {
  switch (test.op) {
    case 'equals':
      return value === test.value;
    case 'in':
      return test.values.includes(value as Scalar);
    case 'prefix':
      return typeof value === 'string' && value.startsWith(test.value);
    case 'contains':
      return (typeof value === 'string' ? value : value !== null && typeof value === 'object' ? JSON.stringify(value) : '').includes(test.value);
    case 'exists':
      return typeof value === 'string';
    case 'gte':
      return typeof value === 'number' && value >= test.value;
    case 'lt':
      return typeof value === 'number' && value < test.value;
    case 'absent':
      return value === null || value === '';
  }
}

/** Evaluates a condition on an event (the local detector's semantics, which the generated queries reproduce). */
export function holds(condition: Condition, event: unknown): boolean {
  if ('all' in condition) return condition.all.every((part) => holds(part, event));
  if ('any' in condition) return condition.any.some((part) => holds(part, event));
  if ('not' in condition) return !holds(condition.not, event);
  const values = valuesAt(event, condition.path);
  if (condition.op === 'absent') return values.every((value) => passes(condition, value));
  return values.some((value) => passes(condition, value));
}
