import { isDeepStrictEqual } from 'node:util';

/**
 * Whether `part` is what pruning may make of `whole`: equal, or a string prefix, or an array of leading items of
 * which only the last may itself be pruned, or an object whose members are members of `whole`, each equal or pruned.
 */
export function isPrunedFrom(part: unknown, whole: unknown): boolean {
  if (isDeepStrictEqual(part, whole)) return true;
  if (typeof part === 'string') return typeof whole === 'string' && whole.startsWith(part);
  if (Array.isArray(part)) {
    if (!Array.isArray(whole) || part.length > whole.length) return false;
    return part.every((item, index) =>
      index < part.length - 1 ? isDeepStrictEqual(item, whole[index]) : isPrunedFrom(item, whole[index]));
  }
  if (typeof part === 'object' && part !== null) {
    if (typeof whole !== 'object' || whole === null || Array.isArray(whole)) return false;
    return Object.entries(part).every(([key, value]) => Object.hasOwn(whole, key) && isPrunedFrom(value, (whole as Record<string, unknown>)[key]));
  }
  return false;
}
