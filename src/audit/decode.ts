import { isUtf8 } from 'node:buffer';
import { RequestError } from '../errors.ts';
import {
  type ArrayElements,
  compactJson,
  countKeys,
  indexOfByte,
  JsonScanError,
  type ObjectScan,
  parseSpan,
  prototypeIsClean,
  scanDocument,
  skipWhitespace,
  type Span,
  textOf,
  valueEnd,
} from './json-scan.ts';
import { runAtOnce, runInSlices, type Slices, type Steps } from '../slices.ts';
import { objectScanner } from './simd-object-scan.ts';
import { AuditApiVersion } from './types.ts';

/** How the body was shaped: the webhook's EventList, one Event, or JSON lines (one Event per line, as in audit.log). */
export const BodyFormat = {
  EventList: 'EventList',
  Event: 'Event',
  JsonLines: 'JsonLines',
} as const;
export type BodyFormat = (typeof BodyFormat)[keyof typeof BodyFormat];

/** One item of the body, parsed, with its received bytes. */
export interface DecodedItem {
  /** Where the item came from, for error messages: `items[3]` or `line 4`. */
  readonly label: string;
  /**
   * The item's UTF-8 bytes as received, on one line: a view of the body, not a copy, unless the item spanned lines
   * (then a copy with the whitespace outside strings removed).
   */
  readonly utf8: Buffer;
  /** Spans of the item's own members within `utf8`, by key (for items from the fast scan, found on first use). */
  readonly members: ReadonlyMap<string, Span>;
  /** Span of the item's own `annotations` member within `utf8`, when it has one. */
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

/** Bytes checked per step: a few milliseconds of work. */
const CHUNK_BYTES = 4 * 1024 * 1024;

/**
 * The body as the scanner reads it: its bytes, never a string of the whole body (items are decoded one at a time,
 * and records keep views of the bytes). Refuses what is not UTF-8 (RFC 8259 section 8.1), a byte order mark included.
 */
function* checkedBytes(body: Uint8Array): Steps<Buffer> {
  if (body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) {
    throw new RequestError(400, 'body starts with a byte order mark; send JSON without a BOM (RFC 8259 section 8.1)');
  }
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  for (let start = 0; start < bytes.length; ) {
    let end = Math.min(bytes.length, start + CHUNK_BYTES);
    // Chunks start on a character: a continuation byte (10xxxxxx) goes with the chunk before. More than three in a
    // row is not UTF-8, and the chunk that then starts with one is refused.
    for (let back = 0; back < 3 && end < bytes.length && (bytes[end]! & 0xc0) === 0x80; back++) end--;
    const chunk = bytes.subarray(start, end);
    if (!isUtf8(chunk)) throw new RequestError(400, 'body is not valid UTF-8; send the audit events as UTF-8 JSON');
    start = end;
    yield;
  }
  return bytes;
}

/** The character offset (as a JavaScript string counts) of a byte offset, for messages. */
const characterAt = (bytes: Buffer, offset: number): number => textOf(bytes, 0, offset).length;

/**
 * Finds the items of an EventList, a single Event or JSON lines in the received bytes (a string is read as its UTF-8
 * bytes); every value is checked, none re-serialised. Items are scanned the fast way first; a body refused that way is
 * scanned again the thorough way, which names the first problem in the body exactly, at a character offset (the fast
 * way finds duplicate keys only after parsing).
 */
export function decodeBody(body: Uint8Array | string): DecodedBody {
  const { bytes, decoded, fast } = runAtOnce(decodeSteps(body));
  return fast ? { ...decoded, items: withoutPauses(orThoroughly(bytes, decoded.items)) } : decoded;
}

/** decodeBody's items handed over as they are reached, with the event loop free between slices of the work. */
export interface DecodedBodyInSlices extends Omit<DecodedBody, 'items'> {
  /**
   * Calls `visit` with each item in order, pausing between slices; rejects with the first broken item's RequestError,
   * or with what `visit` throws. A callback rather than an async iterator: a promise per item was 1% of serve's CPU.
   */
  eachItem(visit: (item: DecodedItem) => void): Promise<void>;
}

/**
 * decodeBody with the event loop free between slices of the work, for a server that must keep answering meanwhile;
 * switching to the thorough way after an item the fast way refused takes slices too.
 */
export async function decodeBodyInSlices(body: Uint8Array | string, slices: Slices): Promise<DecodedBodyInSlices> {
  const { bytes, decoded, fast } = await runInSlices(decodeSteps(body), slices);
  const { items, ...rest } = decoded;
  return { ...rest, eachItem: (visit) => visitInSlices(fast ? orThoroughly(bytes, items) : items, slices, visit) };
}

function* decodeSteps(body: Uint8Array | string): Steps<{ bytes: Buffer; decoded: DecodedBody; fast: boolean }> {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : yield* checkedBytes(body);
  // The fast way's duplicate check counts keys with for...in.
  if (!prototypeIsClean()) return { bytes, decoded: yield* decodeThoroughly(bytes), fast: false };
  try {
    return { bytes, decoded: yield* decodeBytes(bytes, true), fast: true };
  } catch {
    return { bytes, decoded: yield* decodeThoroughly(bytes), fast: false };
  }
}

/** Where item iteration may be paused without an item: while the body is decoded again the thorough way. */
const PAUSE = Symbol('pause');

/** The fast way's items, switching to the thorough way's from the first item the fast way refuses. */
function* orThoroughly(bytes: Buffer, items: Iterable<DecodedItem>): Generator<DecodedItem | typeof PAUSE> {
  let index = 0;
  try {
    for (const item of items) {
      yield item;
      index++;
    }
  } catch {
    const steps = decodeThoroughly(bytes);
    let step = steps.next();
    for (; !step.done; step = steps.next()) yield PAUSE;
    let skipped = 0;
    for (const item of step.value.items) yield skipped++ >= index ? item : PAUSE;
  }
}

function* withoutPauses(items: Iterable<DecodedItem | typeof PAUSE>): Generator<DecodedItem> {
  for (const item of items) if (item !== PAUSE) yield item;
}

async function visitInSlices(items: Iterable<DecodedItem | typeof PAUSE>, slices: Slices, visit: (item: DecodedItem) => void): Promise<void> {
  for (const item of items) {
    if (item !== PAUSE) visit(item);
    if (slices.due()) await slices.next();
  }
}

/** Only after checkedBytes accepted the body, which is therefore UTF-8; problems are named at character offsets. */
function* decodeThoroughly(bytes: Buffer): Steps<DecodedBody> {
  try {
    return yield* decodeBytes(bytes, false);
  } catch (error) {
    if (error instanceof JsonScanError) {
      const problem = `${error.reason} at character ${characterAt(bytes, error.offset)}`;
      throw new RequestError(400, error.element ? `${error.element} is not valid JSON: ${problem}` : `body is not valid JSON: ${problem}`);
    }
    throw error;
  }
}

/** `fast`: scan items with scanObject and check for duplicate keys by count after parsing. */
function* decodeBytes(bytes: Buffer, fast: boolean): Steps<DecodedBody> {
  const start = skipWhitespace(bytes, 0);
  if (start === bytes.length) throw new RequestError(400, 'body is empty; expected an EventList');
  const first = bytes[start];
  if (first !== 0x7b) {
    const what = first === 0x5b ? 'a JSON array' : 'not a JSON object';
    throw new RequestError(400, `body is ${what}; expected an EventList object ({"kind":"EventList",...})`);
  }

  const { end, members, elements } = yield* scanDocument(bytes, start, fast ? objectScanner(bytes).scan : undefined, 'items');
  const next = skipWhitespace(bytes, end);
  const kind = readString(bytes, members, 'kind');
  if (next < bytes.length) {
    if (kind === 'EventList') {
      throw new RequestError(400, `body continues after the EventList at character ${characterAt(bytes, next)}; send one EventList per request`);
    }
    return yield* decodeJsonLines(bytes);
  }

  if (kind === 'EventList') return decodeEventList(bytes, members, elements);
  if (kind === 'Event' || (kind === undefined && members.has('auditID'))) {
    return { format: BodyFormat.Event, count: 1, items: [item(bytes, 'the event', { start, end }, members, AuditApiVersion.V1)] };
  }
  const shown = kind === undefined ? 'no kind' : `kind ${JSON.stringify(kind.slice(0, 64))}`;
  throw new RequestError(400, `body has ${shown}; expected kind EventList (or a single Event)`);
}

function decodeEventList(bytes: Buffer, members: ReadonlyMap<string, Span>, elements: ArrayElements): DecodedBody {
  // Every member must be valid JSON even where the pipeline does not read it.
  for (const [key, span] of members) if (key !== 'items') parseSpan(bytes, span);

  const apiVersion = readString(bytes, members, 'apiVersion');
  if (apiVersion === undefined || !SUPPORTED_API_VERSIONS.includes(apiVersion)) {
    const shown = apiVersion === undefined ? 'no apiVersion' : `apiVersion ${JSON.stringify(apiVersion.slice(0, 64))}`;
    throw new RequestError(400, `EventList has ${shown}; expected ${SUPPORTED_API_VERSIONS.join(' or ')}`);
  }
  const itemsSpan = members.get('items');
  if (itemsSpan === undefined) throw new RequestError(400, 'EventList has no items array');
  if (bytes[itemsSpan.start] !== 0x5b) {
    // Go writes an empty list's items as null.
    if (parseSpan(bytes, itemsSpan) === null) return { format: BodyFormat.EventList, count: 0, items: [] };
    throw new RequestError(400, 'EventList items is not an array');
  }
  return { format: BodyFormat.EventList, count: elements.length, items: eventListItems(bytes, elements, apiVersion as AuditApiVersion) };
}

function* eventListItems(bytes: Buffer, elements: ArrayElements, apiVersion: AuditApiVersion): Generator<DecodedItem> {
  for (let index = 0; index < elements.length; index++) {
    const label = `items[${index}]`;
    const span = elements.span(index);
    if (bytes[span.start] !== 0x7b) {
      throw new RequestError(400, `${label} is not an object; every item must be an audit Event`);
    }
    if (elements.scanned) yield scannedItem(bytes, label, span, elements.scan(index), apiVersion);
    else {
      const members = new Map<string, Span>();
      valueEnd(bytes, span.start, members);
      yield item(bytes, label, span, members, apiVersion);
    }
  }
}

function* decodeJsonLines(bytes: Buffer): Steps<DecodedBody> {
  const items: DecodedItem[] = [];
  let i = skipWhitespace(bytes, 0);
  let line = 1;
  let counted = 0;
  while (i < bytes.length) {
    line += newlinesBetween(bytes, counted, i);
    counted = i;
    if (bytes[i] !== 0x7b) {
      throw new RequestError(400, `line ${line} is not a JSON object; JSON lines bodies hold one audit Event per line`);
    }
    const members = new Map<string, Span>();
    const end = labelled(`line ${line}`, bytes, () => valueEnd(bytes, i, members));
    items.push(item(bytes, `line ${line}`, { start: i, end }, members, AuditApiVersion.V1));
    yield;
    i = skipWhitespace(bytes, end);
  }
  return { format: BodyFormat.JsonLines, count: items.length, items };
}

/** Runs a scan of one item, naming the item when its JSON is broken. */
function labelled<T>(label: string, bytes: Buffer, scan: () => T): T {
  try {
    return scan();
  } catch (error) {
    if (error instanceof JsonScanError) throw new RequestError(400, `${label} is not valid JSON: ${error.reason} at character ${characterAt(bytes, error.offset)}`);
    throw error;
  }
}

function item(bytes: Buffer, label: string, span: Span, members: Map<string, Span>, listApiVersion: AuditApiVersion): DecodedItem {
  const value = labelled(label, bytes, () => parseSpan(bytes, span));
  let utf8 = bytes.subarray(span.start, span.end);
  let itemMembers: Map<string, Span> = new Map();
  for (const [key, member] of members) {
    itemMembers.set(key, { start: member.start - span.start, end: member.end - span.start });
  }
  if (utf8.includes(0x0a) || utf8.includes(0x0d)) {
    utf8 = compactJson(utf8);
    itemMembers = new Map();
    valueEnd(utf8, 0, itemMembers);
  }
  const annotations = itemMembers.get('annotations');
  return { label, utf8, members: itemMembers, value, listApiVersion, ...(annotations ? { annotations } : {}) };
}

/** An item from a fast scan; duplicate keys show as fewer parsed keys. */
function scannedItem(bytes: Buffer, label: string, span: Span, scan: ObjectScan, listApiVersion: AuditApiVersion): DecodedItem {
  // item() compacts the item onto one line and scans it again.
  if (scan.multiline) return item(bytes, label, span, new Map(), listApiVersion);
  const value = parseSpan(bytes, span);
  if (countKeys(value) !== scan.keys) throw new JsonScanError('duplicate object key', span.start);
  return new ScannedItem(label, bytes.subarray(span.start, span.end), value, listApiVersion, scan.annotations);
}

/**
 * Its members' spans are found only if asked for: a map per item is a large share of a batch's memory, and rendering
 * needs only the annotations span. A class, not a literal with a getter, which V8 builds far more slowly.
 */
class ScannedItem implements DecodedItem {
  #members: Map<string, Span> | undefined;

  constructor(
    readonly label: string,
    readonly utf8: Buffer,
    readonly value: unknown,
    readonly listApiVersion: AuditApiVersion,
    readonly annotations: Span | undefined,
  ) {}

  get members(): ReadonlyMap<string, Span> {
    if (this.#members === undefined) {
      this.#members = new Map();
      valueEnd(this.utf8, 0, this.#members);
    }
    return this.#members;
  }
}

function readString(bytes: Buffer, members: ReadonlyMap<string, Span>, key: string): string | undefined {
  const span = members.get(key);
  if (span === undefined) return undefined;
  const value = parseSpan(bytes, span);
  return typeof value === 'string' ? value : undefined;
}

function newlinesBetween(bytes: Buffer, from: number, to: number): number {
  let count = 0;
  for (let i = indexOfByte.call(bytes, 0x0a, from); i >= 0 && i < to; i = indexOfByte.call(bytes, 0x0a, i + 1)) count++;
  return count;
}
