import { isAscii, isUtf8 } from 'node:buffer';
import { RequestError } from '../errors.ts';
import {
  type ArrayElement,
  compactJson,
  countKeys,
  JsonScanError,
  type ObjectScan,
  parseSpan,
  prototypeIsClean,
  scanDocument,
  scanObject,
  skipWhitespace,
  type Span,
  valueEnd,
} from './json-scan.ts';
import { runAtOnce, runInSlices, type Slices, type Steps } from '../slices.ts';
import { AuditApiVersion } from './types.ts';

/** How the body was shaped: the webhook's EventList, one Event, or JSON lines (one Event per line, as in audit.log). */
export const BodyFormat = {
  EventList: 'EventList',
  Event: 'Event',
  JsonLines: 'JsonLines',
} as const;
export type BodyFormat = (typeof BodyFormat)[keyof typeof BodyFormat];

/** One item of the body, parsed, with its received text. */
export interface DecodedItem {
  /** Where the item came from, for error messages: `items[3]` or `line 4`. */
  readonly label: string;
  /** The item's text as received, on one line (whitespace outside strings removed if it spanned lines). */
  readonly text: string;
  /** UTF-8 length of `text`. */
  readonly bytes: number;
  /** Spans of the item's own members within `text`, by key (for items from the fast scan, found on first use). */
  readonly members: ReadonlyMap<string, Span>;
  /** Span of the item's own `annotations` member within `text`, when it has one. */
  readonly annotations?: Span;
  readonly value: unknown;
  /** The list's apiVersion, which items without their own inherit. */
  readonly listApiVersion: AuditApiVersion;
}

export interface DecodedBody {
  readonly format: BodyFormat;
  /** How many items the body holds. */
  readonly count: number;
  /**
   * The items, each parsed as it is reached, so that a caller handling one at a time never holds the whole batch's
   * parsed objects (several times the body's size). Iterating throws the RequestError of the first broken item.
   */
  readonly items: Iterable<DecodedItem>;
}

const SUPPORTED_API_VERSIONS: readonly string[] = Object.values(AuditApiVersion);
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The body as the scanners read it. Received bytes are read as one character per byte (latin1): structural
 * characters are ASCII and never occur inside a UTF-8 sequence, so the scan finds the same boundaries, at byte offsets.
 * The string stays one byte per character, where decoding UTF-8 makes the whole body two bytes per character as soon
 * as one character is not ASCII, which slows every later step (parse, digest, write) on every item.
 */
interface Source {
  readonly text: string;
  /** The received text of [start, end): the same characters when they are ASCII, else decoded from UTF-8. */
  slice(start: number, end: number): string;
  /** UTF-8 length of [start, end), whose slice is `slice`. */
  bytes(start: number, end: number, slice: string): number;
}

const textSource = (text: string): Source => ({
  text,
  slice: (start, end) => text.slice(start, end),
  bytes: (_start, _end, slice) => Buffer.byteLength(slice, 'utf8'),
});

/** Bytes checked per step: a few milliseconds of work. */
const CHUNK_BYTES = 4 * 1024 * 1024;

/** Refuses what is not UTF-8 (RFC 8259 section 8.1), a byte order mark included. */
function* bytesSource(body: Uint8Array): Steps<Source> {
  if (body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) {
    throw new RequestError(400, 'body starts with a byte order mark; send JSON without a BOM (RFC 8259 section 8.1)');
  }
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  let ascii = true;
  for (let start = 0; start < bytes.length; ) {
    let end = Math.min(bytes.length, start + CHUNK_BYTES);
    // Chunks start on a character: a continuation byte (10xxxxxx) goes with the chunk before. More than three in a
    // row is not UTF-8, and the chunk that then starts with one is refused.
    for (let back = 0; back < 3 && end < bytes.length && (bytes[end]! & 0xc0) === 0x80; back++) end--;
    const chunk = bytes.subarray(start, end);
    if (!isAscii(chunk)) {
      ascii = false;
      if (!isUtf8(chunk)) throw new RequestError(400, 'body is not valid UTF-8; send the audit events as UTF-8 JSON');
    }
    start = end;
    yield;
  }
  // One conversion of the whole body, not one per chunk joined: a joined string is copied again, flat, on first read,
  // and the copy and its pieces were both alive at a large batch's peak (a memcpy: no need for slices).
  const text = bytes.toString('latin1');
  return {
    text,
    slice(start, end) {
      if (ascii) return text.slice(start, end);
      const part = body.subarray(start, end);
      return isAscii(part) ? text.slice(start, end) : utf8.decode(part);
    },
    // Offsets into the latin1 text are byte offsets.
    bytes: (start, end) => end - start,
  };
}

/**
 * Finds the items of an EventList, a single Event or JSON lines in the received bytes (or in text already decoded);
 * every value is checked, none re-serialised. Items are scanned the fast way first; a body refused that way is
 * decoded again the thorough way, from the decoded text, which names the first problem in the body exactly, at a
 * character offset (the fast way finds duplicate keys only after parsing).
 */
export function decodeBody(body: Uint8Array | string): DecodedBody {
  const { decoded, fast } = runAtOnce(decodeSteps(body));
  return fast ? { ...decoded, items: withoutPauses(orThoroughly(body, decoded.items)) } : decoded;
}

/** decodeBody's items as they are reached, with the event loop free between slices of the work. */
export interface DecodedBodyInSlices extends Omit<DecodedBody, 'items'> {
  readonly items: AsyncIterable<DecodedItem>;
}

/**
 * decodeBody with the event loop free between slices of the work, for a server that must keep answering meanwhile;
 * switching to the thorough way after an item the fast way refused takes slices too.
 */
export async function decodeBodyInSlices(body: Uint8Array | string, slices: Slices): Promise<DecodedBodyInSlices> {
  const { decoded, fast } = await runInSlices(decodeSteps(body), slices);
  return { ...decoded, items: inSlices(fast ? orThoroughly(body, decoded.items) : decoded.items, slices) };
}

function* decodeSteps(body: Uint8Array | string): Steps<{ decoded: DecodedBody; fast: boolean }> {
  const source = typeof body === 'string' ? textSource(body) : yield* bytesSource(body);
  // The fast way's duplicate check counts keys with for...in.
  if (!prototypeIsClean()) return { decoded: yield* decodeThoroughly(body), fast: false };
  try {
    return { decoded: yield* decodeText(source, true), fast: true };
  } catch {
    return { decoded: yield* decodeThoroughly(body), fast: false };
  }
}

/** Where item iteration may be paused without an item: while the body is decoded again the thorough way. */
const PAUSE = Symbol('pause');

/** The fast way's items, switching to the thorough way's from the first item the fast way refuses. */
function* orThoroughly(body: Uint8Array | string, items: Iterable<DecodedItem>): Generator<DecodedItem | typeof PAUSE> {
  let index = 0;
  try {
    for (const item of items) {
      yield item;
      index++;
    }
  } catch {
    const steps = decodeThoroughly(body);
    let step = steps.next();
    for (; !step.done; step = steps.next()) yield PAUSE;
    let skipped = 0;
    for (const item of step.value.items) yield skipped++ >= index ? item : PAUSE;
  }
}

function* withoutPauses(items: Iterable<DecodedItem | typeof PAUSE>): Generator<DecodedItem> {
  for (const item of items) if (item !== PAUSE) yield item;
}

async function* inSlices(items: Iterable<DecodedItem | typeof PAUSE>, slices: Slices): AsyncGenerator<DecodedItem> {
  for (const item of items) {
    if (item !== PAUSE) yield item;
    if (slices.due()) await slices.next();
  }
}

/** Only after bytesSource accepted the body, which is therefore UTF-8. */
function* decodeThoroughly(body: Uint8Array | string): Steps<DecodedBody> {
  try {
    return yield* decodeText(textSource(typeof body === 'string' ? body : utf8.decode(body)), false);
  } catch (error) {
    if (error instanceof JsonScanError) {
      throw new RequestError(400, error.element ? `${error.element} is not valid JSON: ${error.message}` : `body is not valid JSON: ${error.message}`);
    }
    throw error;
  }
}

/** `fast`: scan items with scanObject and check for duplicate keys by count after parsing. */
function* decodeText(source: Source, fast: boolean): Steps<DecodedBody> {
  const text = source.text;
  const start = skipWhitespace(text, 0);
  if (start === text.length) throw new RequestError(400, 'body is empty; expected an EventList');
  const first = text.charCodeAt(start);
  if (first !== 0x7b) {
    const what = first === 0x5b ? 'a JSON array' : 'not a JSON object';
    throw new RequestError(400, `body is ${what}; expected an EventList object ({"kind":"EventList",...})`);
  }

  const { end, members, elements } = yield* scanDocument(text, start, fast, 'items');
  const next = skipWhitespace(text, end);
  const kind = readString(text, members, 'kind');
  if (next < text.length) {
    if (kind === 'EventList') {
      throw new RequestError(400, `body continues after the EventList at character ${next}; send one EventList per request`);
    }
    return yield* decodeJsonLines(source);
  }

  if (kind === 'EventList') return decodeEventList(source, members, elements);
  if (kind === 'Event' || (kind === undefined && members.has('auditID'))) {
    return { format: BodyFormat.Event, count: 1, items: [item(source, 'the event', { start, end }, members, AuditApiVersion.V1)] };
  }
  const shown = kind === undefined ? 'no kind' : `kind ${JSON.stringify(kind.slice(0, 64))}`;
  throw new RequestError(400, `body has ${shown}; expected kind EventList (or a single Event)`);
}

function decodeEventList(source: Source, members: ReadonlyMap<string, Span>, elements: readonly ArrayElement[]): DecodedBody {
  const text = source.text;
  // Every member must be valid JSON even where the pipeline does not read it.
  for (const [key, span] of members) if (key !== 'items') parseSpan(text, span);

  const apiVersion = readString(text, members, 'apiVersion');
  if (apiVersion === undefined || !SUPPORTED_API_VERSIONS.includes(apiVersion)) {
    const shown = apiVersion === undefined ? 'no apiVersion' : `apiVersion ${JSON.stringify(apiVersion.slice(0, 64))}`;
    throw new RequestError(400, `EventList has ${shown}; expected ${SUPPORTED_API_VERSIONS.join(' or ')}`);
  }
  const itemsSpan = members.get('items');
  if (itemsSpan === undefined) throw new RequestError(400, 'EventList has no items array');
  if (text.charCodeAt(itemsSpan.start) !== 0x5b) {
    // Go writes an empty list's items as null.
    if (parseSpan(text, itemsSpan) === null) return { format: BodyFormat.EventList, count: 0, items: [] };
    throw new RequestError(400, 'EventList items is not an array');
  }
  return { format: BodyFormat.EventList, count: elements.length, items: eventListItems(source, elements, apiVersion as AuditApiVersion) };
}

function* eventListItems(source: Source, elements: readonly ArrayElement[], apiVersion: AuditApiVersion): Generator<DecodedItem> {
  for (const [index, element] of elements.entries()) {
    const label = `items[${index}]`;
    if (source.text.charCodeAt(element.span.start) !== 0x7b) {
      throw new RequestError(400, `${label} is not an object; every item must be an audit Event`);
    }
    if (element.scan) yield scannedItem(source, label, element.span, element.scan, apiVersion);
    else {
      const members = new Map<string, Span>();
      valueEnd(source.text, element.span.start, members);
      yield item(source, label, element.span, members, apiVersion);
    }
  }
}

function* decodeJsonLines(source: Source): Steps<DecodedBody> {
  const text = source.text;
  const items: DecodedItem[] = [];
  let i = skipWhitespace(text, 0);
  let line = 1;
  let counted = 0;
  while (i < text.length) {
    line += newlinesBetween(text, counted, i);
    counted = i;
    if (text.charCodeAt(i) !== 0x7b) {
      throw new RequestError(400, `line ${line} is not a JSON object; JSON lines bodies hold one audit Event per line`);
    }
    const members = new Map<string, Span>();
    const end = labelled(`line ${line}`, () => valueEnd(text, i, members));
    items.push(item(source, `line ${line}`, { start: i, end }, members, AuditApiVersion.V1));
    yield;
    i = skipWhitespace(text, end);
  }
  return { format: BodyFormat.JsonLines, count: items.length, items };
}

/** Runs a scan of one item, naming the item when its JSON is broken. */
function labelled<T>(label: string, scan: () => T): T {
  try {
    return scan();
  } catch (error) {
    if (error instanceof JsonScanError) throw new RequestError(400, `${label} is not valid JSON: ${error.message}`);
    throw error;
  }
}

function item(
  source: Source,
  label: string,
  span: Span,
  members: Map<string, Span>,
  listApiVersion: AuditApiVersion,
): DecodedItem {
  let itemText = source.slice(span.start, span.end);
  let value: unknown;
  try {
    value = parseSpan(itemText, { start: 0, end: itemText.length });
  } catch (error) {
    if (error instanceof JsonScanError) throw new RequestError(400, `${label} is not valid JSON: ${error.reason} at character ${span.start + error.offset}`);
    throw error;
  }
  // Spans found in bytes do not fit text decoded from UTF-8.
  const decoded = itemText.length !== span.end - span.start;
  let itemMembers: Map<string, Span> = new Map();
  for (const [key, member] of members) {
    itemMembers.set(key, { start: member.start - span.start, end: member.end - span.start });
  }
  let bytes = source.bytes(span.start, span.end, itemText);
  const multiline = /[\n\r]/.test(itemText);
  if (multiline) {
    const received = itemText;
    itemText = compactJson(received);
    // Compaction removes whitespace only, one byte per character.
    bytes -= received.length - itemText.length;
  }
  if (multiline || decoded) {
    itemMembers = new Map();
    valueEnd(itemText, 0, itemMembers);
  }
  const annotations = itemMembers.get('annotations');
  return { label, text: itemText, bytes, members: itemMembers, value, listApiVersion, ...(annotations ? { annotations } : {}) };
}

/** An item from a fast scan; duplicate keys show as fewer parsed keys. */
function scannedItem(source: Source, label: string, span: Span, scan: ObjectScan, listApiVersion: AuditApiVersion): DecodedItem {
  // item() compacts the text onto one line and scans it again.
  if (scan.multiline) return item(source, label, span, new Map(), listApiVersion);
  const text = source.slice(span.start, span.end);
  const value = parseSpan(text, { start: 0, end: text.length });
  if (countKeys(value) !== scan.keys) throw new JsonScanError('duplicate object key', span.start);
  // Spans found in bytes do not fit text decoded from UTF-8.
  const annotations = text.length === span.end - span.start ? scan.annotations : scanObject(text, 0).annotations;
  return new ScannedItem(label, text, source.bytes(span.start, span.end, text), value, listApiVersion, annotations);
}

/**
 * Its members' spans are found only if asked for: a map per item is a large share of a batch's memory, and rendering
 * needs only the annotations span. A class, not a literal with a getter, which V8 builds far more slowly.
 */
class ScannedItem implements DecodedItem {
  #members: Map<string, Span> | undefined;

  constructor(
    readonly label: string,
    readonly text: string,
    readonly bytes: number,
    readonly value: unknown,
    readonly listApiVersion: AuditApiVersion,
    readonly annotations: Span | undefined,
  ) {}

  get members(): ReadonlyMap<string, Span> {
    if (this.#members === undefined) {
      this.#members = new Map();
      valueEnd(this.text, 0, this.#members);
    }
    return this.#members;
  }
}

function readString(text: string, members: ReadonlyMap<string, Span>, key: string): string | undefined {
  const span = members.get(key);
  if (span === undefined) return undefined;
  const value = parseSpan(text, span);
  return typeof value === 'string' ? value : undefined;
}

function newlinesBetween(text: string, from: number, to: number): number {
  let count = 0;
  for (let i = text.indexOf('\n', from); i >= 0 && i < to; i = text.indexOf('\n', i + 1)) count++;
  return count;
}
