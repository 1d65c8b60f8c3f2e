import { RequestError } from '../errors.ts';
import {
  compactJson,
  JsonScanError,
  parseSpan,
  skipWhitespace,
  type Span,
  stringEnd,
  valueEnd,
} from './json-scan.ts';
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
  /** Spans of the item's own members within `text`, by key. */
  readonly members: ReadonlyMap<string, Span>;
  readonly value: unknown;
  /** The list's apiVersion, which items without their own inherit. */
  readonly listApiVersion: AuditApiVersion;
}

export interface DecodedBody {
  readonly format: BodyFormat;
  readonly items: readonly DecodedItem[];
}

const SUPPORTED_API_VERSIONS: readonly string[] = Object.values(AuditApiVersion);
const BOM = 0xfeff;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Bytes to text, refusing what is not UTF-8 (RFC 8259 section 8.1), a byte order mark included. */
export function decodeUtf8(body: Uint8Array): string {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw new RequestError(400, 'body is not valid UTF-8; send the audit events as UTF-8 JSON');
  }
  if (text.charCodeAt(0) === BOM) {
    throw new RequestError(400, 'body starts with a byte order mark; send JSON without a BOM (RFC 8259 section 8.1)');
  }
  return text;
}

/** Finds the items of an EventList, a single Event or JSON lines; every value is checked, none re-serialised. */
export function decodeBody(text: string): DecodedBody {
  try {
    return decodeText(text);
  } catch (error) {
    if (error instanceof JsonScanError) {
      throw new RequestError(400, `body is not valid JSON: ${error.message}`);
    }
    throw error;
  }
}

function decodeText(text: string): DecodedBody {
  const start = skipWhitespace(text, 0);
  if (start === text.length) throw new RequestError(400, 'body is empty; expected an EventList');
  const first = text.charCodeAt(start);
  if (first !== 0x7b) {
    const what = first === 0x5b ? 'a JSON array' : 'not a JSON object';
    throw new RequestError(400, `body is ${what}; expected an EventList object ({"kind":"EventList",...})`);
  }

  const members = new Map<string, Span>();
  const end = valueEnd(text, start, members);
  const next = skipWhitespace(text, end);
  const kind = readString(text, members, 'kind');
  if (next < text.length) {
    if (kind === 'EventList') {
      throw new RequestError(400, `body continues after the EventList at character ${next}; send one EventList per request`);
    }
    return decodeJsonLines(text);
  }

  if (kind === 'EventList') return decodeEventList(text, start, end, members);
  if (kind === 'Event' || (kind === undefined && members.has('auditID'))) {
    return { format: BodyFormat.Event, items: [item(text, 'the event', { start, end }, members, AuditApiVersion.V1)] };
  }
  const shown = kind === undefined ? 'no kind' : `kind ${JSON.stringify(kind.slice(0, 64))}`;
  throw new RequestError(400, `body has ${shown}; expected kind EventList (or a single Event)`);
}

function decodeEventList(text: string, start: number, end: number, members: Map<string, Span>): DecodedBody {
  // Every member must be valid JSON even where the pipeline does not read it.
  for (const [key, span] of members) if (key !== 'items') parseSpan(text, span);
  // valueEnd checked structure; this checks the separators and keys between members.
  checkObjectSyntax(text, start, end, members);

  const apiVersion = readString(text, members, 'apiVersion');
  if (apiVersion === undefined || !SUPPORTED_API_VERSIONS.includes(apiVersion)) {
    const shown = apiVersion === undefined ? 'no apiVersion' : `apiVersion ${JSON.stringify(apiVersion.slice(0, 64))}`;
    throw new RequestError(400, `EventList has ${shown}; expected ${SUPPORTED_API_VERSIONS.join(' or ')}`);
  }
  const itemsSpan = members.get('items');
  if (itemsSpan === undefined) throw new RequestError(400, 'EventList has no items array');
  const open = text.charCodeAt(itemsSpan.start);
  if (text.startsWith('null', itemsSpan.start)) return { format: BodyFormat.EventList, items: [] };
  if (open !== 0x5b) throw new RequestError(400, 'EventList items is not an array');

  const items: DecodedItem[] = [];
  let i = skipWhitespace(text, itemsSpan.start + 1);
  if (text.charCodeAt(i) === 0x5d) return { format: BodyFormat.EventList, items };
  for (;;) {
    const label = `items[${items.length}]`;
    if (text.charCodeAt(i) !== 0x7b) {
      throw new RequestError(400, `${label} is not an object; every item must be an audit Event`);
    }
    const itemMembers = new Map<string, Span>();
    const itemEnd = labelled(label, () => valueEnd(text, i, itemMembers));
    items.push(item(text, label, { start: i, end: itemEnd }, itemMembers, apiVersion as AuditApiVersion));
    i = skipWhitespace(text, itemEnd);
    const separator = text.charCodeAt(i);
    if (separator === 0x5d) break;
    if (separator !== 0x2c) throw new JsonScanError("expected ',' or ']' after an item", i);
    i = skipWhitespace(text, i + 1);
  }
  return { format: BodyFormat.EventList, items };
}

function decodeJsonLines(text: string): DecodedBody {
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
    items.push(item(text, `line ${line}`, { start: i, end }, members, AuditApiVersion.V1));
    i = skipWhitespace(text, end);
  }
  return { format: BodyFormat.JsonLines, items };
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
  text: string,
  label: string,
  span: Span,
  members: Map<string, Span>,
  listApiVersion: AuditApiVersion,
): DecodedItem {
  let value: unknown;
  try {
    value = parseSpan(text, span);
  } catch (error) {
    if (error instanceof JsonScanError) throw new RequestError(400, `${label} is not valid JSON: ${error.message}`);
    throw error;
  }
  let itemText = text.slice(span.start, span.end);
  let itemMembers: Map<string, Span> = new Map();
  for (const [key, member] of members) {
    itemMembers.set(key, { start: member.start - span.start, end: member.end - span.start });
  }
  if (/[\n\r]/.test(itemText)) {
    itemText = compactJson(itemText);
    itemMembers = new Map();
    valueEnd(itemText, 0, itemMembers);
  }
  return { label, text: itemText, members: itemMembers, value, listApiVersion };
}

function readString(text: string, members: ReadonlyMap<string, Span>, key: string): string | undefined {
  const span = members.get(key);
  if (span === undefined) return undefined;
  const value = parseSpan(text, span);
  return typeof value === 'string' ? value : undefined;
}

/** Checks the keys, colons and commas around the member spans valueEnd found, without scanning the values again. */
function checkObjectSyntax(text: string, start: number, end: number, members: ReadonlyMap<string, Span>): void {
  let i = start + 1;
  let first = true;
  for (const span of members.values()) {
    i = skipWhitespace(text, i);
    if (!first) {
      if (text.charCodeAt(i) !== 0x2c) throw new JsonScanError("expected ',' between members", i);
      i = skipWhitespace(text, i + 1);
    }
    first = false;
    if (text.charCodeAt(i) !== 0x22) throw new JsonScanError('expected an object key', i);
    i = skipWhitespace(text, stringEnd(text, i));
    if (text.charCodeAt(i) !== 0x3a) throw new JsonScanError("expected ':' after an object key", i);
    if (skipWhitespace(text, i + 1) !== span.start) throw new JsonScanError('expected a value', i + 1);
    i = span.end;
  }
  if (skipWhitespace(text, i) !== end - 1) throw new JsonScanError("expected ',' or '}' after a value", i);
}

function newlinesBetween(text: string, from: number, to: number): number {
  let count = 0;
  for (let i = text.indexOf('\n', from); i >= 0 && i < to; i = text.indexOf('\n', i + 1)) count++;
  return count;
}
