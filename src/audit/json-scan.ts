/**
 * The structural JSON scanner, the one place that walks nesting: finds where values begin and end in a string without
 * building them, so the pipeline can keep each audit event's received text unchanged. It checks nesting depth and
 * rejects duplicate object keys (which JSON.parse silently resolves to the last one, while a reader of the stored text
 * may take the first: redaction would then check one value and store another). Values' contents are validated by
 * JSON.parse on their spans.
 */
import type { Steps } from '../slices.ts';


/** Deeper than any real Kubernetes object, and well inside what JSON.stringify can handle on Node's default stack. */
export const MAX_NESTING_DEPTH = 1000;

/** A syntax problem at a character offset. The message never quotes the input. */
export class JsonScanError extends Error {
  override readonly name = 'JsonScanError';
  constructor(
    readonly reason: string,
    readonly offset: number,
    /** Which element of the scanned array holds the problem (`items[3]`), when {@link scanDocument} knows. */
    readonly element?: string,
  ) {
    super(`${reason} at character ${offset}`);
  }
}

/** Where a value lies in the text: `text.slice(start, end)`. */
export interface Span {
  readonly start: number;
  readonly end: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

export const isJsonWhitespace = (code: number): boolean => code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;

export function skipWhitespace(text: string, offset: number): number {
  let i = offset;
  while (i < text.length && isJsonWhitespace(text.charCodeAt(i))) i++;
  return i;
}

/** Index just past the closing quote of the string that opens at `offset`. */
export function stringEnd(text: string, offset: number): number {
  let i = offset + 1;
  for (;;) {
    const quote = text.indexOf('"', i);
    if (quote < 0) throw new JsonScanError('unterminated string', offset);
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote + 1;
    i = quote + 1;
  }
}

/** The key a string token stands for, unescaping only when it has escapes. */
function keyOf(text: string, start: number, end: number): string {
  const raw = text.slice(start + 1, end - 1);
  if (!raw.includes('\\')) return raw;
  try {
    return JSON.parse(text.slice(start, end)) as string;
  } catch {
    throw new JsonScanError('invalid escape in object key', start);
  }
}

/**
 * Returns the end of the value that starts at `offset` (which must not be whitespace). Structure only: the
 * contents of primitives are left for JSON.parse. When `members` is given and the value is an object, its own
 * members' value spans are recorded there by key.
 */
export function valueEnd(text: string, offset: number, members?: Map<string, Span>): number {
  const first = text.charCodeAt(offset);
  if (first === QUOTE) return stringEnd(text, offset);
  if (first !== OPEN_BRACE && first !== OPEN_BRACKET) return primitiveEnd(text, offset);

  // One entry per open container: the keys seen so far for an object, null for an array.
  const keys: (Set<string> | null)[] = [];
  let expectKey = false;
  let pendingKey: string | undefined;
  let memberStart = -1;
  let i = offset;
  while (i < text.length) {
    const code = text.charCodeAt(i);
    if (code === QUOTE) {
      const end = stringEnd(text, i);
      const open = keys[keys.length - 1];
      if (expectKey && open) {
        const key = keyOf(text, i, end);
        if (open.has(key)) throw new JsonScanError('duplicate object key', i);
        open.add(key);
        if (members && keys.length === 1) pendingKey = key;
        expectKey = false;
      } else if (members && keys.length === 1 && pendingKey !== undefined) {
        members.set(pendingKey, { start: i, end });
        pendingKey = undefined;
      }
      i = end;
      continue;
    }
    if (code === OPEN_BRACE || code === OPEN_BRACKET) {
      if (members && keys.length === 1 && pendingKey !== undefined) memberStart = i;
      if (keys.length >= MAX_NESTING_DEPTH) throw new JsonScanError(`nested deeper than ${MAX_NESTING_DEPTH} levels`, i);
      keys.push(code === OPEN_BRACE ? new Set() : null);
      expectKey = code === OPEN_BRACE;
      i++;
      continue;
    }
    if (code === CLOSE_BRACE || code === CLOSE_BRACKET) {
      const open = keys.pop();
      if (open === undefined || (open === null) !== (code === CLOSE_BRACKET)) {
        throw new JsonScanError('mismatched bracket', i);
      }
      i++;
      if (keys.length === 0) return i;
      if (members && keys.length === 1 && pendingKey !== undefined && memberStart >= 0) {
        members.set(pendingKey, { start: memberStart, end: i });
        pendingKey = undefined;
        memberStart = -1;
      }
      expectKey = false;
      continue;
    }
    if (code === COMMA) {
      expectKey = keys[keys.length - 1] != null;
      i++;
      continue;
    }
    if (code === COLON || isJsonWhitespace(code)) {
      i++;
      continue;
    }
    // A number, true, false or null inside a container.
    const end = primitiveEnd(text, i);
    if (members && keys.length === 1 && pendingKey !== undefined) {
      members.set(pendingKey, { start: i, end });
      pendingKey = undefined;
    }
    i = end;
  }
  throw new JsonScanError('unexpected end of input', text.length);
}

/**
 * An element of the document's array member: scanned by {@link scanObject} the fast way; the thorough way checks it
 * with {@link valueEnd} and leaves its members' spans to be found when the element is used, so that a large array's
 * elements do not all hold a map.
 */
export interface ArrayElement {
  readonly span: Span;
  readonly scan?: ObjectScan;
}

/** What {@link scanDocument} found. */
export interface DocumentScan {
  /** Index just past the top-level object's closing brace. */
  readonly end: number;
  /** The top-level object's members' value spans, by key. */
  readonly members: Map<string, Span>;
  /** The elements of the array member, when it is an array. */
  readonly elements: readonly ArrayElement[];
}

/**
 * Walks the top-level object that opens at `start` member by member, checking keys and separators, and the array
 * member named `arrayKey` element by element, pausing after each element, so that a broken element is named
 * (`items[3]`, in {@link JsonScanError.element}). `fast`: elements are scanned with {@link scanObject}, whose caller
 * must check their keys by count after parsing; otherwise with {@link valueEnd}, which names the first problem exactly.
 */
export function* scanDocument(text: string, start: number, fast: boolean, arrayKey: string): Steps<DocumentScan> {
  const members = new Map<string, Span>();
  let elements: ArrayElement[] = [];
  let i = skipWhitespace(text, start + 1);
  if (text.charCodeAt(i) === CLOSE_BRACE) return { end: i + 1, members, elements };
  for (;;) {
    if (text.charCodeAt(i) !== QUOTE) throw new JsonScanError('expected an object key', i);
    const keyEnd = stringEnd(text, i);
    const key = parseSpan(text, { start: i, end: keyEnd }) as string;
    if (members.has(key)) throw new JsonScanError('duplicate object key', i);
    i = skipWhitespace(text, keyEnd);
    if (text.charCodeAt(i) !== COLON) throw new JsonScanError("expected ':' after an object key", i);
    const valueStart = skipWhitespace(text, i + 1);
    let end: number;
    if (key === arrayKey && text.charCodeAt(valueStart) === OPEN_BRACKET) {
      ({ end, elements } = yield* scanElements(text, valueStart, fast, arrayKey));
    } else {
      end = valueEnd(text, valueStart);
    }
    members.set(key, { start: valueStart, end });
    i = skipWhitespace(text, end);
    const separator = text.charCodeAt(i);
    if (separator === CLOSE_BRACE) return { end: i + 1, members, elements };
    if (separator !== COMMA) throw separatorError(text, i, "expected ',' or '}' after a value");
    i = skipWhitespace(text, i + 1);
  }
}

function* scanElements(text: string, open: number, fast: boolean, arrayKey: string): Steps<{ end: number; elements: ArrayElement[] }> {
  const elements: ArrayElement[] = [];
  let i = skipWhitespace(text, open + 1);
  if (text.charCodeAt(i) === CLOSE_BRACKET) return { end: i + 1, elements };
  for (;;) {
    const start = i;
    let end: number;
    if (fast) {
      const scan = scanObject(text, start);
      end = scan.end;
      elements.push({ span: { start, end }, scan });
    } else {
      try {
        end = valueEnd(text, start);
      } catch (error) {
        if (error instanceof JsonScanError) throw new JsonScanError(error.reason, error.offset, `${arrayKey}[${elements.length}]`);
        throw error;
      }
      elements.push({ span: { start, end } });
    }
    yield;
    i = skipWhitespace(text, end);
    const separator = text.charCodeAt(i);
    if (separator === CLOSE_BRACKET) return { end: i + 1, elements };
    if (separator !== COMMA) throw separatorError(text, i, "expected ',' or ']' after an item");
    i = skipWhitespace(text, i + 1);
  }
}

const separatorError = (text: string, at: number, expected: string): JsonScanError =>
  new JsonScanError(at < text.length ? expected : 'unexpected end of input', at);

/** What {@link scanObject} found in one object. */
export interface ObjectScan {
  /** Index just past the closing brace. */
  readonly end: number;
  /** Span of the object's own `annotations` member, relative to its opening brace: what rendering splices into. */
  readonly annotations?: Span;
  /** Object members at every depth, duplicates included: compare with {@link countKeys} of the parsed value. */
  readonly keys: number;
  /** Whether a line break occurs between tokens (none can occur inside a valid JSON string). */
  readonly multiline: boolean;
}

const ANNOTATIONS_KEY = '"annotations"';

/** Whether the key token at [start, end) stands for `annotations`, however it is escaped. */
function isAnnotationsKey(text: string, start: number, end: number): boolean {
  // An escape is longer than the character it stands for: only a longer token can be an escaped `annotations`.
  if (end - start < ANNOTATIONS_KEY.length) return false;
  if (end - start === ANNOTATIONS_KEY.length) return text.startsWith(ANNOTATIONS_KEY, start);
  for (let i = start + 1; i < end - 1; i++) {
    if (text.charCodeAt(i) === BACKSLASH) return keyOf(text, start, end) === 'annotations';
  }
  return false;
}

/**
 * The fast counterpart of {@link valueEnd} for an object that JSON.parse will check next: it tracks nesting depth and
 * strings, and counts keys instead of remembering them, so duplicates are found by comparing that count with the
 * parsed value's ({@link countKeys}; JSON.parse keeps one of each duplicate). Of the object's own members it records
 * only `annotations`. It accepts everything valueEnd accepts. It does not match bracket kinds: on `{"a":[}]` it
 * returns an end whose slice JSON.parse refuses, and a slice that parses has matched brackets and no other end.
 * Callers re-run valueEnd when the scan, the parse or the count fails, for its message.
 */
export function scanObject(text: string, offset: number): ObjectScan {
  if (text.charCodeAt(offset) !== OPEN_BRACE) throw new JsonScanError('expected an object', offset);
  let depth = 0;
  let keys = 0;
  let multiline = false;
  let expectKey = false;
  let atAnnotations = false;
  let annotations: Span | undefined;
  let memberStart = -1;
  let i = offset;
  while (i < text.length) {
    const code = text.charCodeAt(i);
    if (code === QUOTE) {
      const end = stringEnd(text, i);
      if (depth === 1) {
        if (expectKey) {
          atAnnotations = isAnnotationsKey(text, i, end);
          expectKey = false;
        } else if (atAnnotations) {
          annotations = { start: i - offset, end: end - offset };
          atAnnotations = false;
        }
      }
      i = end;
    } else if (code === COLON) {
      keys++;
      i++;
    } else if (code === COMMA) {
      if (depth === 1) expectKey = true;
      i++;
    } else if (code === OPEN_BRACE || code === OPEN_BRACKET) {
      if (depth === 1 && atAnnotations) memberStart = i;
      if (depth >= MAX_NESTING_DEPTH) throw new JsonScanError(`nested deeper than ${MAX_NESTING_DEPTH} levels`, i);
      depth++;
      if (depth === 1) expectKey = true;
      i++;
    } else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) {
      depth--;
      i++;
      if (depth === 0) return { end: i, keys, multiline, ...(annotations ? { annotations } : {}) };
      if (depth === 1 && atAnnotations && memberStart >= 0) {
        annotations = { start: memberStart - offset, end: i - offset };
        atAnnotations = false;
      }
    } else if (isJsonWhitespace(code)) {
      if (code === 0x0a || code === 0x0d) multiline = true;
      i++;
    } else {
      const end = primitiveEnd(text, i);
      if (depth === 1 && atAnnotations) {
        annotations = { start: i - offset, end: end - offset };
        atAnnotations = false;
      }
      i = end;
    }
  }
  throw new JsonScanError('unexpected end of input', text.length);
}

/**
 * Keys of every object in a parsed JSON value, at every depth. `for...in` takes half the time of `Object.keys` here,
 * and counts only own keys while Object.prototype has no enumerable property: callers check {@link prototypeIsClean}.
 */
export function countKeys(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  let count = 0;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) count += countKeys(value[i]);
    return count;
  }
  const object = value as Record<string, unknown>;
  for (const key in object) count += 1 + countKeys(object[key]);
  return count;
}

/** Whether objects inherit no enumerable property, which some library could have added to Object.prototype. */
export function prototypeIsClean(): boolean {
  for (const _ in {}) return false;
  return true;
}

function primitiveEnd(text: string, offset: number): number {
  let i = offset;
  while (i < text.length) {
    const code = text.charCodeAt(i);
    if (code === COMMA || code === CLOSE_BRACE || code === CLOSE_BRACKET || code === COLON || code === QUOTE) break;
    if (code === OPEN_BRACE || code === OPEN_BRACKET || isJsonWhitespace(code)) break;
    i++;
  }
  if (i === offset) throw new JsonScanError('expected a value', offset);
  return i;
}

/**
 * JSON.parse of a span, with errors turned into offsets in the whole text. V8's own messages can quote the input,
 * which must never reach a response or a log.
 */
export function parseSpan(text: string, span: Span): unknown {
  const slice = text.slice(span.start, span.end);
  try {
    return JSON.parse(slice);
  } catch (error) {
    const position = /position (\d+)/.exec((error as Error).message);
    throw new JsonScanError('invalid JSON', span.start + (position ? Number(position[1]) : 0));
  }
}

/** Removes whitespace outside strings, keeping every token's text as it is (numbers and escapes unchanged). */
export function compactJson(text: string): string {
  let out = '';
  let from = 0;
  let i = 0;
  while (i < text.length) {
    const code = text.charCodeAt(i);
    if (code === QUOTE) {
      i = stringEnd(text, i);
      continue;
    }
    if (isJsonWhitespace(code)) {
      out += text.slice(from, i);
      i = skipWhitespace(text, i);
      from = i;
      continue;
    }
    i++;
  }
  return out + text.slice(from);
}
