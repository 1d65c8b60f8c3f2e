import { type LogRecord, recordKey } from '../record.ts';
import { Annotation } from './annotations.ts';
import type { DecodedItem } from './decode.ts';
import type { Tier } from '../tiers/tier-rule.ts';
import { type AuditApiVersion, type AuditEvent, Stage } from './types.ts';

/** The stages as constants: a record keeps one of these rather than its own copy of the parsed string. */
const STAGES: ReadonlyMap<string, string> = new Map(Object.values(Stage).map((stage) => [stage, stage]));

/** The smallest record limit allowed: a skeleton of the longest identifiers validation lets through always fits. */
export const MIN_RECORD_BYTES = 4096;

export interface RenderInput {
  readonly item: DecodedItem;
  readonly event: AuditEvent;
  readonly apiVersion: AuditApiVersion;
  /** Paths redaction replaced; when non-empty, the event was changed and is serialised again. */
  readonly redacted: readonly string[];
  readonly cluster?: string | undefined;
  readonly maxRecordBytes: number;
  /** Receive time in ms, the record's time when the event carries none. */
  readonly receivedAt: number;
  /** The tiers the routing sends the event to, when there is a routing. */
  readonly tiers?: readonly Tier[] | undefined;
}

export interface Rendered {
  readonly record: LogRecord;
  readonly truncated: boolean;
  /** The event carried a kube-audit-relay.io/cluster naming another cluster than `cluster`; it was overwritten. */
  readonly spoofed: boolean;
}

/**
 * Builds the record for one event. The received text is kept byte for byte unless the relay must change the event:
 * a cluster annotation is spliced into the text, while redaction, truncation and overwriting a cluster the sender
 * claimed serialise the changed event again. The record keeps no parsed event: its `event` is parsed from `json` when
 * read.
 */
export function renderRecord(input: RenderInput): Rendered {
  const { event, item } = input;
  const added: Record<string, string> = {};
  const existing = event.annotations ?? {};
  // The relay, not the sender, says which cluster an event is from: a different claim is overwritten.
  const claimed = Object.hasOwn(existing, Annotation.Cluster) ? existing[Annotation.Cluster] : undefined;
  const spoofed = Boolean(input.cluster) && claimed !== undefined && claimed !== input.cluster;
  if (input.cluster && claimed !== input.cluster) added[Annotation.Cluster] = input.cluster;
  if (input.redacted.length > 0 && !Object.hasOwn(existing, Annotation.Redacted)) {
    added[Annotation.Redacted] = input.redacted.join(',');
  }

  let json: string | Buffer;
  let bytes: number;
  if (input.redacted.length > 0 || spoofed) {
    event.annotations = { ...existing, ...added };
    if (Object.keys(event.annotations).length === 0 && item.annotations === undefined) {
      delete event.annotations;
    }
    json = JSON.stringify(event);
    bytes = Buffer.byteLength(json, 'utf8');
  } else {
    json = spliceAnnotations(item, event, added);
    bytes = json.length;
  }

  let final = event;
  let truncated = false;
  if (bytes > input.maxRecordBytes) {
    if (input.redacted.length === 0 && !spoofed && Object.keys(added).length > 0) event.annotations = { ...existing, ...added };
    ({ event: final, json, bytes } = truncate(event, input.maxRecordBytes));
    truncated = true;
  }
  const record = new RenderedRecord(final.auditID, STAGES.get(final.stage) ?? final.stage, eventTime(final) ?? input.receivedAt, json, bytes, input.apiVersion, input.cluster || undefined, input.tiers);
  return { record, truncated, spoofed };
}

/**
 * A class, not a literal with a getter, which V8 builds far more slowly (once per event). It holds its line as bytes
 * where it can, where they lie in the received body's memory: a string per record would hold the batch a second time,
 * and a view object per record was a large share of what a large batch kept alive.
 */
class RenderedRecord implements LogRecord {
  readonly key: string;
  /** The JSON line as the relay serialised it, when it did. */
  private readonly text: string | undefined;
  /** Else the memory that holds the line's UTF-8 bytes, and where in it they lie. */
  private readonly memory: ArrayBufferLike | undefined;
  private readonly offset: number;
  private readonly length: number;

  constructor(
    readonly auditID: string,
    readonly stage: string,
    readonly timestamp: number,
    line: string | Buffer,
    readonly bytes: number,
    readonly apiVersion: AuditApiVersion,
    readonly cluster: string | undefined,
    readonly tiers: readonly Tier[] | undefined,
  ) {
    const text = typeof line === 'string';
    this.text = text ? line : undefined;
    this.memory = text ? undefined : line.buffer;
    this.offset = text ? 0 : line.byteOffset;
    this.length = text ? 0 : line.byteLength;
    this.key = recordKey(this);
  }

  get json(): string {
    return this.text ?? this.utf8!.toString('utf8');
  }

  get utf8(): Buffer | undefined {
    return this.memory && Buffer.from(this.memory, this.offset, this.length);
  }

  get event(): AuditEvent {
    return JSON.parse(this.json) as AuditEvent;
  }

  /** What `JSON.stringify` makes of the record: its fields and its `json`, not how it holds them. */
  toJSON(): Omit<LogRecord, 'event' | 'utf8'> {
    const { auditID, stage, timestamp, json, bytes, apiVersion, cluster, tiers, key } = this;
    return { auditID, stage, timestamp, json, bytes, apiVersion, cluster, tiers, key };
  }
}

/** stageTimestamp, else requestReceivedTimestamp, else v1beta1's timestamp, in ms; undefined when none parses. */
export function eventTime(event: AuditEvent): number | undefined {
  return parsedTime(event.stageTimestamp) ?? parsedTime(event.requestReceivedTimestamp) ?? parsedTime(event.timestamp);
}

/** A timestamp field's time in ms: the API server's own spelling read directly, any other by Date.parse; undefined when none. */
export function parsedTime(field: unknown): number | undefined {
  if (typeof field !== 'string') return undefined;
  const time = apiServerTime(field) ?? Date.parse(field);
  return Number.isNaN(time) ? undefined : time;
}

/** Character codes of `0` and `9`. */
const ZERO = 0x30;
const NINE = 0x39;

/**
 * The time of a timestamp as the API server writes it (Go's RFC 3339 in UTC, `2026-12-02T10:37:30.123456Z`, with or
 * without a fraction), in ms, exactly as Date.parse reads it (a day past the month's end rolls over, the fraction is
 * cut to ms); undefined for any other spelling or field out of range, which the caller hands to Date.parse. Date.parse
 * took 2.5% of serve's CPU on Metadata events, nearly all of it on this one format.
 */
export function apiServerTime(text: string): number | undefined {
  const length = text.length;
  if (length < 20 || length > 30 || text.charCodeAt(length - 1) !== 0x5a /* Z */) return undefined;
  if (text.charCodeAt(4) !== 0x2d || text.charCodeAt(7) !== 0x2d || text.charCodeAt(10) !== 0x54 || text.charCodeAt(13) !== 0x3a || text.charCodeAt(16) !== 0x3a) return undefined;
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  const hour = digits(text, 11, 2);
  const minute = digits(text, 14, 2);
  const second = digits(text, 17, 2);
  // Years below 100 would be read by Date.UTC as 19xx; hour 24 and leap seconds are Date.parse's to judge.
  if (year < 1000 || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return undefined;
  let ms = 0;
  if (length > 20) {
    // `.` and one to nine digits before the Z.
    const fraction = length - 22;
    if (text.charCodeAt(19) !== 0x2e || fraction < 0 || fraction > 8) return undefined;
    if (digits(text, 20, fraction + 1) < 0) return undefined;
    ms = digits(text, 20, Math.min(3, fraction + 1)) * (fraction === 0 ? 100 : fraction === 1 ? 10 : 1);
  }
  return Date.UTC(year, month - 1, day, hour, minute, second, ms);
}

/** The number written by `count` decimal digits at `start`; -1 when any is not a digit. */
function digits(text: string, start: number, count: number): number {
  let value = 0;
  for (let i = start; i < start + count; i++) {
    const code = text.charCodeAt(i);
    if (code < ZERO || code > NINE) return -1;
    value = value * 10 + (code - ZERO);
  }
  return value;
}

/** Adds annotations to the received bytes without touching anything else. */
function spliceAnnotations(item: DecodedItem, event: AuditEvent, added: Record<string, string>): Buffer {
  const received = item.utf8;
  const entries = Object.entries(added);
  if (entries.length === 0) return received;
  const members = entries.map(([key, value]) => `${JSON.stringify(key)}:${JSON.stringify(value)}`).join(',');
  const span = item.annotations;
  if (span === undefined) {
    // The object's closing brace is the item's last byte: decode trims nothing after it.
    return Buffer.concat([received.subarray(0, -1), Buffer.from(`,"annotations":{${members}}}`, 'utf8')]);
  }
  if (received[span.start] !== 0x7b) {
    // "annotations":null, which validation lets through.
    return Buffer.concat([received.subarray(0, span.start), Buffer.from(`{${members}}`, 'utf8'), received.subarray(span.end)]);
  }
  const hadAnnotations = event.annotations != null && Object.keys(event.annotations).length > 0;
  const open = span.start + 1;
  return Buffer.concat([received.subarray(0, open), Buffer.from(hadAnnotations ? `${members},` : members, 'utf8'), received.subarray(open)]);
}

interface Truncation {
  readonly event: AuditEvent;
  readonly json: string;
  readonly bytes: number;
}

/**
 * Shrinks an event that is over the limit, as the API server's truncate plugin does first (drop requestObject and
 * responseObject, annotate `audit.k8s.io/truncated`), then down to ever smaller skeletons that keep who did what to
 * which object and when. The last one holds only identifiers validation has capped, so it always fits.
 */
function truncate(event: AuditEvent, maxBytes: number): Truncation {
  const { requestObject, responseObject, ...withoutBodies } = event;
  const removed = [requestObject !== undefined && 'requestObject', responseObject !== undefined && 'responseObject']
    .filter(Boolean)
    .join(',');
  const marks = (what: string): Record<string, string> => ({
    [Annotation.Truncated]: 'true',
    [Annotation.TruncatedFields]: what,
  });
  const identity = {
    level: event.level,
    auditID: event.auditID,
    stage: event.stage,
    verb: event.verb,
    requestReceivedTimestamp: event.requestReceivedTimestamp,
    stageTimestamp: event.stageTimestamp,
    timestamp: event.timestamp,
  };
  const candidates: AuditEvent[] = [
    // Without bodies to drop, the first step would only re-serialise the event: go straight to the skeletons.
    ...(removed ? [{ ...withoutBodies, annotations: { ...event.annotations, ...marks(removed) } }] : []),
    {
      kind: event.kind,
      apiVersion: event.apiVersion,
      ...identity,
      requestURI: event.requestURI,
      user: event.user,
      impersonatedUser: event.impersonatedUser,
      sourceIPs: event.sourceIPs,
      objectRef: event.objectRef,
      responseStatus: event.responseStatus,
      annotations: { ...event.annotations, ...marks('skeleton') },
    },
    {
      ...identity,
      user: { username: event.user?.username },
      objectRef: event.objectRef,
      responseStatus: { code: event.responseStatus?.code },
      annotations: { ...relayAnnotations(event), ...marks('skeleton') },
    },
    { ...identity, user: { username: event.user?.username?.slice(0, 256) }, annotations: marks('skeleton') },
    { ...identity, user: {}, annotations: marks('skeleton') },
  ] as AuditEvent[];
  for (const candidate of candidates) {
    const json = JSON.stringify(candidate);
    const bytes = Buffer.byteLength(json, 'utf8');
    if (bytes <= maxBytes) return { event: JSON.parse(json) as AuditEvent, json, bytes };
  }
  throw new Error(`an event skeleton does not fit in ${maxBytes} bytes; the record limit is below ${MIN_RECORD_BYTES}`);
}

function relayAnnotations(event: AuditEvent): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const key of [Annotation.Cluster, Annotation.Redacted]) {
    const value = event.annotations?.[key];
    if (value !== undefined && value.length <= 1024) kept[key] = value;
  }
  return kept;
}
