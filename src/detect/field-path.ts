/**
 * A path to a field of an audit event, written as in the rule source: `user.username`, `objectRef.subresource`,
 * `requestObject.spec.containers[*].securityContext.privileged`, `annotations['authorization.k8s.io/decision']`.
 * `[*]` means any element of an array.
 */
export type PathSegment = { readonly key: string } | { readonly anyElement: true } | { readonly index: number };
export type FieldPath = readonly PathSegment[];

const SEGMENT = /^(?:\.?([A-Za-z_][A-Za-z0-9_]*)|\['([^'\]]+)'\]|\[\*\])/;

/** Parses a path; throws with the offending text when it is not one. */
export function parseFieldPath(text: string): FieldPath {
  const segments: PathSegment[] = [];
  let rest = text;
  while (rest.length > 0) {
    const match = SEGMENT.exec(rest);
    if (!match || (segments.length === 0 && rest.startsWith('.'))) throw new Error(`'${text}' is not a field path: expected name, .name, ['key'] or [*] at '${rest}'`);
    const key = match[1] ?? match[2];
    segments.push(key === undefined ? { anyElement: true } : { key });
    rest = rest.slice(match[0].length);
  }
  if (segments.length === 0 || !('key' in segments[0]!)) throw new Error(`'${text}' is not a field path: it must start with an event field name`);
  return segments;
}

/** Every value the path reaches in `root`: none when a step is missing, several when it crosses `[*]`. */
export function valuesAt(root: unknown, path: FieldPath): unknown[] {
  let current: unknown[] = [root];
  for (const segment of path) {
    const next: unknown[] = [];
    for (const value of current) {
      if ('anyElement' in segment) {
        if (Array.isArray(value)) next.push(...value);
      } else if ('index' in segment) {
        if (Array.isArray(value) && segment.index < value.length) next.push(value[segment.index]);
      } else if (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.hasOwn(value, segment.key)) {
        next.push((value as Record<string, unknown>)[segment.key]);
      }
    }
    current = next;
  }
  return current.filter((value) => value !== undefined);
}

/**
 * How many array elements the cloud queries check where a rule says `[*]`: neither metric filters nor per-row KQL can
 * loop over an array. Metric filters get fewer, to stay within CloudWatch's 1,024 characters.
 */
export const ArraySlots = {
  Queries: 5,
  MetricFilters: 3,
} as const;

/** The path's `[*]` steps replaced by indices 0..slots-1, every combination. */
export function expandAnyElement(path: FieldPath, slots: number): FieldPath[] {
  const at = path.findIndex((segment) => 'anyElement' in segment);
  if (at < 0) return [path];
  const head = path.slice(0, at);
  return Array.from({ length: slots }, (_, index) => expandAnyElement(path.slice(at + 1), slots).map((tail) => [...head, { index }, ...tail])).flat();
}
