import type { AuditEvent } from './types.ts';

/** What replaces a redacted value. */
export const REDACTED = '[redacted]';

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** A parsed REDACT_PATHS entry: keys from the event's root, `*` matching any key or array index. */
export type RedactionPath = readonly string[];

export interface RedactionOptions {
  /** Redact Secret data, TokenReview and TokenRequest tokens (REDACT_SECRETS, default true). */
  readonly secrets: boolean;
  /** Further paths to redact in every event (REDACT_PATHS). */
  readonly paths: readonly RedactionPath[];
}

/**
 * Replaces secret values in the event, in place, and returns the paths it replaced (empty when nothing was found).
 * Keys are kept so that a reader still sees which entries a request touched.
 */
export function redactEvent(event: AuditEvent, options: RedactionOptions): string[] {
  const redacted: string[] = [];
  if (options.secrets) {
    for (const field of ['requestObject', 'responseObject'] as const) {
      redactKnownSecrets(event, field, redacted);
    }
  }
  for (const path of options.paths) {
    redactPath(event, path, 0, path[0] ?? '', redacted);
  }
  return redacted;
}

function redactKnownSecrets(event: AuditEvent, field: 'requestObject' | 'responseObject', redacted: string[]): void {
  const object = event[field];
  const ref = event.objectRef;
  const coreResource = ref && (ref.apiGroup === undefined || ref.apiGroup === '') ? ref.resource : undefined;
  if (coreResource === 'secrets' && Array.isArray(object)) {
    redactJsonPatch(object, field, redacted);
    return;
  }
  if (!isRecord(object)) return;

  // Patch and apply bodies carry no kind; the objectRef says what they are.
  if (coreResource === 'secrets' && object.kind === undefined) redactSecret(object, field, redacted);
  if (ref?.resource === 'tokenreviews' && object.kind === undefined) redactToken(object, 'spec', field, redacted);
  if (coreResource === 'serviceaccounts' && ref?.subresource === 'token' && object.kind === undefined) {
    redactToken(object, 'status', field, redacted);
  }
  redactByKind(object, field, redacted, undefined, coreResource === 'secrets');
}

/**
 * A JSON patch (RFC 6902) on a Secret: any operation's value may carry data, the whole object or the last-applied
 * annotation, so every value is replaced.
 */
function redactJsonPatch(operations: unknown[], path: string, redacted: string[]): void {
  operations.forEach((operation, index) => {
    if (isRecord(operation) && operation.value !== undefined) {
      operation.value = REDACTED;
      redacted.push(`${path}.${index}.value`);
    }
  });
}

/**
 * Secrets, TokenReviews and TokenRequests recognised by kind, also inside lists and tables. The items of a typed list
 * (SecretList) carry no kind of their own, so they take the one the list's kind implies. On a request for secrets,
 * metadata-only answers (`kubectl get secrets` asks for a Table of PartialObjectMetadata) still carry the
 * last-applied annotation, which holds the data.
 */
function redactByKind(object: Record<string, unknown>, path: string, redacted: string[], impliedKind: string | undefined, secrets: boolean): void {
  switch (object.kind ?? impliedKind) {
    case 'Secret':
      redactSecret(object, path, redacted);
      return;
    case 'PartialObjectMetadata':
      if (secrets) redactSecret(object, path, redacted);
      return;
    case 'TokenReview':
      redactToken(object, 'spec', path, redacted);
      return;
    case 'TokenRequest':
      redactToken(object, 'status', path, redacted);
      return;
    case 'Table':
      if (Array.isArray(object.rows)) {
        object.rows.forEach((row, index) => {
          if (isRecord(row) && isRecord(row.object)) redactByKind(row.object, `${path}.rows.${index}.object`, redacted, undefined, secrets);
        });
      }
      return;
  }
  if (typeof object.kind === 'string' && object.kind.endsWith('List') && Array.isArray(object.items)) {
    const itemKind = object.kind.slice(0, -'List'.length) || undefined;
    object.items.forEach((item, index) => {
      if (isRecord(item)) redactByKind(item, `${path}.items.${index}`, redacted, itemKind, secrets);
    });
  }
}

function redactSecret(secret: Record<string, unknown>, path: string, redacted: string[]): void {
  for (const field of ['data', 'stringData']) {
    const values = secret[field];
    if (!isRecord(values)) continue;
    const keys = Object.keys(values);
    if (keys.length === 0) continue;
    for (const key of keys) values[key] = REDACTED;
    redacted.push(`${path}.${field}`);
  }
  const annotations = isRecord(secret.metadata) ? secret.metadata.annotations : undefined;
  if (isRecord(annotations) && annotations[LAST_APPLIED] !== undefined) {
    annotations[LAST_APPLIED] = REDACTED;
    redacted.push(`${path}.metadata.annotations.${LAST_APPLIED}`);
  }
}

function redactToken(object: Record<string, unknown>, parent: 'spec' | 'status', path: string, redacted: string[]): void {
  const holder = object[parent];
  if (isRecord(holder) && holder.token !== undefined && holder.token !== '') {
    holder.token = REDACTED;
    redacted.push(`${path}.${parent}.token`);
  }
}

function redactPath(node: unknown, path: RedactionPath, depth: number, shown: string, redacted: string[]): void {
  if (!isRecord(node) && !Array.isArray(node)) return;
  const key = path[depth];
  if (key === undefined) return;
  const container = node as Record<string, unknown>;
  // An array's own keys include length, which is no element (and cannot be set to a string).
  const present = Array.isArray(node) ? /^(0|[1-9]\d*)$/.test(key) && Number(key) < node.length : Object.hasOwn(container, key);
  const keys = key === '*' ? Object.keys(container) : present ? [key] : [];
  for (const match of keys) {
    const where = depth === 0 ? match : `${shown}.${match}`;
    if (depth === path.length - 1) {
      if (container[match] !== REDACTED && container[match] !== undefined) {
        container[match] = REDACTED;
        redacted.push(where);
      }
    } else {
      redactPath(container[match], path, depth + 1, where, redacted);
    }
  }
}

/**
 * Parses `requestObject.spec.password` or `responseObject.metadata.annotations["example.com/key"]`: dot-separated
 * keys, `*` for any key or index, a key with dots or brackets written as a JSON string in brackets.
 */
export function parseRedactionPath(text: string): RedactionPath {
  const keys: string[] = [];
  let i = 0;
  while (i < text.length) {
    if (text[i] === '[') {
      const close = text.indexOf('"]', i + 2);
      if (text[i + 1] !== '"' || close < 0) throw new Error(`bracketed key must be a JSON string like ["a.b"]`);
      keys.push(JSON.parse(text.slice(i + 1, close + 1)) as string);
      i = close + 2;
    } else {
      const next = text.slice(i).search(/[.[]/);
      const end = next < 0 ? text.length : i + next;
      if (end === i) throw new Error('empty key');
      keys.push(text.slice(i, end));
      i = end;
    }
    if (text[i] === '.') {
      i++;
      if (i === text.length) throw new Error('path ends with a dot');
    }
  }
  if (keys.length === 0) throw new Error('empty path');
  return keys;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
