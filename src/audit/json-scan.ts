/**
 * The structural JSON scanner, the one place that walks nesting: finds where values begin and end in UTF-8 bytes
 * without building them, so the pipeline can keep each audit event's received bytes unchanged and never hold the
 * body as a string too. It checks nesting depth and rejects duplicate object keys (which JSON.parse silently resolves
 * to the last one, while a reader of the stored text may take the first: redaction would then check one value and
 * store another). Values' contents are validated by JSON.parse on their spans. Offsets are byte offsets: structural
 * characters are ASCII and never occur inside a UTF-8 sequence.
 */
import type { Steps } from '../slices.ts';

/** Deeper than any real Kubernetes object, and well inside what JSON.stringify can handle on Node's default stack. */
export const MAX_NESTING_DEPTH = 1000;

/** A syntax problem at a byte offset. The message never quotes the input. */
export class JsonScanError extends Error {
  override readonly name = 'JsonScanError';
  constructor(
    readonly reason: string,
    /** Byte offset of the problem in the scanned bytes. */
    readonly offset: number,
    /** Which element of the scanned array holds the problem (`items[3]`), when {@link scanDocument} knows. */
    readonly element?: string,
  ) {
    super(`${reason} at byte ${offset}`);
  }
}

/** Where a value lies in the bytes: `bytes.subarray(start, end)`. */
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

/** The typed array's own indexOf (a memchr-like builtin); Buffer's override goes through a slower binding. */
export const indexOfByte = Uint8Array.prototype.indexOf;
/** Bytes of a string looked at one by one before searching the rest for its quote: most strings are shorter. */
const SHORT_STRING_BYTES = 32;

export const isJsonWhitespace = (code: number): boolean => code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;

export function skipWhitespace(bytes: Buffer, offset: number): number {
  let i = offset;
  while (i < bytes.length && isJsonWhitespace(bytes[i]!)) i++;
  return i;
}

/** The UTF-8 text of [start, end). */
export const textOf = (bytes: Buffer, start: number, end: number): string => bytes.toString('utf8', start, end);

/** Index just past the closing quote of the string that opens at `offset`. */
export function stringEnd(bytes: Buffer, offset: number): number {
  let i = offset + 1;
  for (;;) {
    let quote = -1;
    for (const short = Math.min(bytes.length, i + SHORT_STRING_BYTES); i < short; i++) {
      if (bytes[i] === QUOTE) {
        quote = i;
        break;
      }
    }
    if (quote < 0) quote = indexOfByte.call(bytes, QUOTE, i);
    if (quote < 0) throw new JsonScanError('unterminated string', offset);
    let backslashes = 0;
    while (bytes[quote - 1 - backslashes] === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote + 1;
    i = quote + 1;
  }
}

/** The key a string token stands for, unescaping only when it has escapes. */
function keyOf(bytes: Buffer, start: number, end: number): string {
  if (!hasEscape(bytes, start, end)) return textOf(bytes, start + 1, end - 1);
  try {
    return JSON.parse(textOf(bytes, start, end)) as string;
  } catch {
    throw new JsonScanError('invalid escape in object key', start);
  }
}

/** Whether the string token at [start, end) holds a backslash. */
function hasEscape(bytes: Buffer, start: number, end: number): boolean {
  for (let i = start + 1; i < end - 1; i++) if (bytes[i] === BACKSLASH) return true;
  return false;
}

/**
 * Returns the end of the value that starts at `offset` (which must not be whitespace). Structure only: the
 * contents of primitives are left for JSON.parse. When `members` is given and the value is an object, its own
 * members' value spans are recorded there by key.
 */
export function valueEnd(bytes: Buffer, offset: number, members?: Map<string, Span>): number {
  const first = bytes[offset];
  if (first === QUOTE) return stringEnd(bytes, offset);
  if (first !== OPEN_BRACE && first !== OPEN_BRACKET) return primitiveEnd(bytes, offset);

  // One entry per open container: the keys seen so far for an object, null for an array.
  const keys: (Set<string> | null)[] = [];
  let expectKey = false;
  let pendingKey: string | undefined;
  let memberStart = -1;
  let i = offset;
  while (i < bytes.length) {
    const code = bytes[i]!;
    if (code === QUOTE) {
      const end = stringEnd(bytes, i);
      const open = keys[keys.length - 1];
      if (expectKey && open) {
        const key = keyOf(bytes, i, end);
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
    const end = primitiveEnd(bytes, i);
    if (members && keys.length === 1 && pendingKey !== undefined) {
      members.set(pendingKey, { start: i, end });
      pendingKey = undefined;
    }
    i = end;
  }
  throw new JsonScanError('unexpected end of input', bytes.length);
}

/**
 * The elements of the document's array member: their spans, and for the fast way what {@link scanObject} found, in
 * typed arrays rather than an object per element, which for a large batch were a large share of what survived the
 * young generation. The thorough way checks elements with {@link valueEnd} and leaves their members' spans to be
 * found when the element is used.
 */
export class ArrayElements {
  #starts: Offsets;
  #ends: Offsets;
  #keys: Offsets;
  /** The annotations member's span relative to the element's start, its start plus one (0 where it has none). */
  #annotationStarts: Offsets;
  #annotationEnds: Offsets;
  #multiline = new Uint8Array(64);
  length = 0;

  /**
   * `scanned`: whether the elements were scanned the fast way, with keys counted and annotations found. Offsets into a
   * body under 4 GiB are kept as 32-bit integers, which V8 reads back as small integers: read from 64-bit floats they
   * made the scanner's optimised code deoptimise once per process.
   */
  constructor(
    readonly scanned: boolean,
    bodyBytes: number,
  ) {
    const offsets = (): Offsets => (bodyBytes < 2 ** 32 - 1 ? new Uint32Array(64) : new Float64Array(64));
    this.#starts = offsets();
    this.#ends = offsets();
    this.#keys = offsets();
    this.#annotationStarts = offsets();
    this.#annotationEnds = offsets();
  }

  push(start: number, end: number, scan?: ObjectScan): void {
    if (this.length === this.#starts.length) this.#grow();
    const index = this.length++;
    this.#starts[index] = start;
    this.#ends[index] = end;
    if (!scan) return;
    this.#keys[index] = scan.keys;
    this.#annotationStarts[index] = scan.annotations ? scan.annotations.start + 1 : 0;
    this.#annotationEnds[index] = scan.annotations?.end ?? 0;
    this.#multiline[index] = scan.multiline ? 1 : 0;
  }

  span(index: number): Span {
    return { start: this.#starts[index]!, end: this.#ends[index]! };
  }

  /** What the fast scan found in element `index` (only when `scanned`). */
  scan(index: number): ObjectScan {
    const start = this.#annotationStarts[index]!;
    return {
      end: this.#ends[index]!,
      keys: this.#keys[index]!,
      multiline: this.#multiline[index] === 1,
      ...(start > 0 ? { annotations: { start: start - 1, end: this.#annotationEnds[index]! } } : {}),
    };
  }

  #grow(): void {
    const grown = <T extends Offsets | Uint8Array>(array: T): T => {
      const larger = new (array.constructor as new (length: number) => T)(array.length * 2);
      larger.set(array);
      return larger;
    };
    this.#starts = grown(this.#starts);
    this.#ends = grown(this.#ends);
    this.#keys = grown(this.#keys);
    this.#annotationStarts = grown(this.#annotationStarts);
    this.#annotationEnds = grown(this.#annotationEnds);
    this.#multiline = grown(this.#multiline);
  }
}

type Offsets = Uint32Array | Float64Array;

/** What {@link scanDocument} found. */
export interface DocumentScan {
  /** Index just past the top-level object's closing brace. */
  readonly end: number;
  /** The top-level object's members' value spans, by key. */
  readonly members: Map<string, Span>;
  /** The elements of the array member, when it is an array. */
  readonly elements: ArrayElements;
}

/**
 * Walks the top-level object that opens at `start` member by member, checking keys and separators, and the array
 * member named `arrayKey` element by element, pausing after each element, so that a broken element is named
 * (`items[3]`, in {@link JsonScanError.element}). With `scanObjectAt` (the fast way: {@link scanObject} on `bytes`, or
 * what returns the same), elements are scanned with it, and the caller must check their keys by count after parsing;
 * otherwise with {@link valueEnd}, which names the first problem exactly.
 */
export function* scanDocument(bytes: Buffer, start: number, scanObjectAt: ((offset: number) => ObjectScan) | undefined, arrayKey: string): Steps<DocumentScan> {
  const members = new Map<string, Span>();
  let elements: ArrayElements | undefined;
  // Empty elements only for a document without the array: scanElements makes its own.
  const found = (end: number): DocumentScan => ({ end, members, elements: elements ?? new ArrayElements(scanObjectAt !== undefined, bytes.length) });
  let i = skipWhitespace(bytes, start + 1);
  if (bytes[i] === CLOSE_BRACE) return found(i + 1);
  for (;;) {
    if (bytes[i] !== QUOTE) throw new JsonScanError('expected an object key', i);
    const keyEnd = stringEnd(bytes, i);
    const key = parseSpan(bytes, { start: i, end: keyEnd }) as string;
    if (members.has(key)) throw new JsonScanError('duplicate object key', i);
    i = skipWhitespace(bytes, keyEnd);
    if (bytes[i] !== COLON) throw new JsonScanError("expected ':' after an object key", i);
    const valueStart = skipWhitespace(bytes, i + 1);
    let end: number;
    if (key === arrayKey && bytes[valueStart] === OPEN_BRACKET) {
      ({ end, elements } = yield* scanElements(bytes, valueStart, scanObjectAt, arrayKey));
    } else {
      end = valueEnd(bytes, valueStart);
    }
    members.set(key, { start: valueStart, end });
    i = skipWhitespace(bytes, end);
    const separator = bytes[i];
    if (separator === CLOSE_BRACE) return found(i + 1);
    if (separator !== COMMA) throw separatorError(bytes, i, "expected ',' or '}' after a value");
    i = skipWhitespace(bytes, i + 1);
  }
}

function* scanElements(bytes: Buffer, open: number, scanObjectAt: ((offset: number) => ObjectScan) | undefined, arrayKey: string): Steps<{ end: number; elements: ArrayElements }> {
  const elements = new ArrayElements(scanObjectAt !== undefined, bytes.length);
  let i = skipWhitespace(bytes, open + 1);
  if (bytes[i] === CLOSE_BRACKET) return { end: i + 1, elements };
  for (;;) {
    const start = i;
    let end: number;
    if (scanObjectAt) {
      const scan = scanObjectAt(start);
      end = scan.end;
      elements.push(start, end, scan);
    } else {
      try {
        end = valueEnd(bytes, start);
      } catch (error) {
        if (error instanceof JsonScanError) throw new JsonScanError(error.reason, error.offset, `${arrayKey}[${elements.length}]`);
        throw error;
      }
      elements.push(start, end);
    }
    yield;
    i = skipWhitespace(bytes, end);
    const separator = bytes[i];
    if (separator === CLOSE_BRACKET) return { end: i + 1, elements };
    if (separator !== COMMA) throw separatorError(bytes, i, "expected ',' or ']' after an item");
    i = skipWhitespace(bytes, i + 1);
  }
}

const separatorError = (bytes: Buffer, at: number, expected: string): JsonScanError =>
  new JsonScanError(at < bytes.length ? expected : 'unexpected end of input', at);

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

const ANNOTATIONS_KEY = Buffer.from('"annotations"', 'latin1');

/** Whether the key token at [start, end) stands for `annotations`, however it is escaped. */
function isAnnotationsKey(bytes: Buffer, start: number, end: number): boolean {
  // An escape is longer than the character it stands for: only a longer token can be an escaped `annotations`.
  if (end - start < ANNOTATIONS_KEY.length) return false;
  if (end - start === ANNOTATIONS_KEY.length) return bytes.compare(ANNOTATIONS_KEY, 0, ANNOTATIONS_KEY.length, start, end) === 0;
  return hasEscape(bytes, start, end) && keyOf(bytes, start, end) === 'annotations';
}

/**
 * The fast counterpart of {@link valueEnd} for an object that JSON.parse will check next: it tracks nesting depth and
 * strings, and counts keys instead of remembering them, so duplicates are found by comparing that count with the
 * parsed value's ({@link countKeys}; JSON.parse keeps one of each duplicate). Of the object's own members it records
 * only `annotations`. It accepts everything valueEnd accepts. It does not match bracket kinds: on `{"a":[}]` it
 * returns an end whose slice JSON.parse refuses, and a slice that parses has matched brackets and no other end.
 * Callers re-run valueEnd when the scan, the parse or the count fails, for its message.
 */
export function scanObject(bytes: Buffer, offset: number): ObjectScan {
  if (bytes[offset] !== OPEN_BRACE) throw new JsonScanError('expected an object', offset);
  let depth = 0;
  let keys = 0;
  let multiline = false;
  let expectKey = false;
  let atAnnotations = false;
  let annotations: Span | undefined;
  let memberStart = -1;
  let i = offset;
  while (i < bytes.length) {
    const code = bytes[i]!;
    if (code === QUOTE) {
      const end = stringEnd(bytes, i);
      if (depth === 1) {
        if (expectKey) {
          atAnnotations = isAnnotationsKey(bytes, i, end);
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
      const end = primitiveEnd(bytes, i);
      if (depth === 1 && atAnnotations) {
        annotations = { start: i - offset, end: end - offset };
        atAnnotations = false;
      }
      i = end;
    }
  }
  throw new JsonScanError('unexpected end of input', bytes.length);
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

function primitiveEnd(bytes: Buffer, offset: number): number {
  let i = offset;
  while (i < bytes.length) {
    const code = bytes[i]!;
    if (code === COMMA || code === CLOSE_BRACE || code === CLOSE_BRACKET || code === COLON || code === QUOTE) break;
    if (code === OPEN_BRACE || code === OPEN_BRACKET || isJsonWhitespace(code)) break;
    i++;
  }
  if (i === offset) throw new JsonScanError('expected a value', offset);
  return i;
}

/**
 * JSON.parse of a span's text, with errors turned into byte offsets in the whole input. V8's own messages can quote
 * the input, which must never reach a response or a log.
 */
export function parseSpan(bytes: Buffer, span: Span): unknown {
  const text = textOf(bytes, span.start, span.end);
  try {
    return JSON.parse(text);
  } catch (error) {
    const position = /position (\d+)/.exec((error as Error).message);
    throw new JsonScanError('invalid JSON', span.start + (position ? Buffer.byteLength(text.slice(0, Number(position[1])), 'utf8') : 0));
  }
}

/** Removes whitespace outside strings, keeping every token's bytes as they are (numbers and escapes unchanged). */
export function compactJson(bytes: Buffer): Buffer {
  const kept: Buffer[] = [];
  let from = 0;
  let i = 0;
  while (i < bytes.length) {
    const code = bytes[i]!;
    if (code === QUOTE) {
      i = stringEnd(bytes, i);
      continue;
    }
    if (isJsonWhitespace(code)) {
      kept.push(bytes.subarray(from, i));
      i = skipWhitespace(bytes, i);
      from = i;
      continue;
    }
    i++;
  }
  kept.push(bytes.subarray(from));
  return Buffer.concat(kept);
}
