import { Annotation } from '../audit/annotations.ts';
import { parsedTime } from '../audit/render.ts';
import type { AuditEvent } from '../audit/types.ts';
import type { LogRecord } from '../record.ts';

/** Log Analytics cuts longer field values silently; rows are shrunk below this first, with an annotation saying so. */
export const MAX_FIELD_BYTES = 65_536;

/** Room kept in the Annotations column for the truncation marks. */
const MARKS_RESERVE_BYTES = 512;

/**
 * The custom table's columns: AKS's AKSAudit columns (so its published KQL works with only the table name changed),
 * plus Cluster and ImpersonatedUser. The infrastructure template declares the same list.
 */
export const AKS_AUDIT_COLUMNS = [
  { name: 'TimeGenerated', type: 'datetime' },
  { name: 'Level', type: 'string' },
  { name: 'AuditId', type: 'string' },
  { name: 'Stage', type: 'string' },
  { name: 'RequestUri', type: 'string' },
  { name: 'Verb', type: 'string' },
  { name: 'User', type: 'dynamic' },
  { name: 'ImpersonatedUser', type: 'dynamic' },
  { name: 'SourceIps', type: 'dynamic' },
  { name: 'UserAgent', type: 'string' },
  { name: 'ObjectRef', type: 'dynamic' },
  { name: 'ResponseStatus', type: 'dynamic' },
  { name: 'RequestObject', type: 'dynamic' },
  { name: 'ResponseObject', type: 'dynamic' },
  { name: 'RequestReceivedTime', type: 'datetime' },
  { name: 'StageReceivedTime', type: 'datetime' },
  { name: 'Annotations', type: 'dynamic' },
  { name: 'Cluster', type: 'string' },
] as const;

export type AksAuditColumn = (typeof AKS_AUDIT_COLUMNS)[number]['name'];

/** One row of the table; a column is absent when the event has no such field. */
export type AksAuditRow = Partial<Record<AksAuditColumn, unknown>> & { TimeGenerated: string; AuditId: string };

export interface AksAuditRowResult {
  readonly row: AksAuditRow;
  /** Whether fields were cut from an event the pipeline had not already truncated. */
  readonly truncated: boolean;
}

/** Which event field each column holds, for the truncation annotation (named as the event names them). */
const SOURCE_FIELD: Record<Exclude<AksAuditColumn, 'TimeGenerated' | 'Cluster'>, string> = {
  Level: 'level',
  AuditId: 'auditID',
  Stage: 'stage',
  RequestUri: 'requestURI',
  Verb: 'verb',
  User: 'user',
  ImpersonatedUser: 'impersonatedUser',
  SourceIps: 'sourceIPs',
  UserAgent: 'userAgent',
  ObjectRef: 'objectRef',
  ResponseStatus: 'responseStatus',
  RequestObject: 'requestObject',
  ResponseObject: 'responseObject',
  RequestReceivedTime: 'requestReceivedTimestamp',
  StageReceivedTime: 'stageTimestamp',
  Annotations: 'annotations',
};

const utf8Bytes = (text: string): number => Buffer.byteLength(text, 'utf8');
const jsonBytes = (value: unknown): number => utf8Bytes(JSON.stringify(value));

/**
 * The table row for one record. Every field over MAX_FIELD_BYTES (UTF-8; dynamic columns measured as JSON text) is
 * cut to valid JSON that fits, and the row's Annotations then carry `audit.k8s.io/truncated: "true"` and the cut
 * fields in `kube-audit-relay.io/truncated`, after any the pipeline already listed.
 */
export function toAksAuditRow(record: LogRecord): AksAuditRowResult {
  const event = record.event;
  const cut: string[] = [];
  const fitted = <T>(column: keyof typeof SOURCE_FIELD, value: T, limit = MAX_FIELD_BYTES): T | undefined => {
    if (value === undefined) return undefined;
    if (jsonBytes(value) - (typeof value === 'string' ? 2 : 0) <= limit) return value;
    cut.push(SOURCE_FIELD[column]);
    // A string column is measured raw, but pruning measures JSON text: allow for the quotes.
    return prune(value, typeof value === 'string' ? limit + 2 : limit) as T | undefined;
  };
  const text = (column: keyof typeof SOURCE_FIELD, value: unknown): string | undefined =>
    typeof value === 'string' ? fitted(column, value) : value === undefined ? undefined : fitted(column, JSON.stringify(value));
  const time = (column: 'RequestReceivedTime' | 'StageReceivedTime', value: unknown): string | undefined =>
    typeof value === 'string' ? fitted(column, value) : undefined;

  const row: AksAuditRow = {
    TimeGenerated: timeGenerated(record, event),
    Level: text('Level', event.level),
    AuditId: event.auditID,
    Stage: text('Stage', event.stage),
    RequestUri: text('RequestUri', event.requestURI),
    Verb: text('Verb', event.verb),
    User: fitted('User', event.user),
    ImpersonatedUser: fitted('ImpersonatedUser', event.impersonatedUser),
    SourceIps: fitted('SourceIps', event.sourceIPs),
    UserAgent: text('UserAgent', event.userAgent),
    ObjectRef: fitted('ObjectRef', event.objectRef),
    ResponseStatus: fitted('ResponseStatus', event.responseStatus),
    RequestObject: fitted('RequestObject', event.requestObject),
    ResponseObject: fitted('ResponseObject', event.responseObject),
    RequestReceivedTime: time('RequestReceivedTime', event.requestReceivedTimestamp ?? event.timestamp),
    StageReceivedTime: time('StageReceivedTime', event.stageTimestamp),
  };
  const annotations = { ...fitted('Annotations', event.annotations, MAX_FIELD_BYTES - MARKS_RESERVE_BYTES) };
  const truncatedEarlier = event.annotations?.[Annotation.Truncated] === 'true';
  if (cut.length > 0) {
    const earlier = annotations[Annotation.TruncatedFields];
    annotations[Annotation.Truncated] = 'true';
    annotations[Annotation.TruncatedFields] = [earlier?.slice(0, 128), ...cut].filter(Boolean).join(',');
  }
  if (event.annotations !== undefined || cut.length > 0) row.Annotations = annotations;
  if (record.cluster !== undefined) row.Cluster = record.cluster;
  for (const column of Object.keys(row) as AksAuditColumn[]) if (row[column] === undefined) delete row[column];
  return { row, truncated: cut.length > 0 && !truncatedEarlier };
}

/**
 * The event's own time as written (keeping its microseconds): stageTimestamp, else requestReceivedTimestamp, when it
 * parses; else the record's time, which also covers v1beta1's `timestamp`.
 */
function timeGenerated(record: LogRecord, event: AuditEvent): string {
  for (const value of [event.stageTimestamp, event.requestReceivedTimestamp]) {
    if (typeof value === 'string' && value.length <= 64 && parsedTime(value) !== undefined) return value;
  }
  return new Date(record.timestamp).toISOString();
}

/**
 * A part of a JSON value whose text fits in `budget` UTF-8 bytes, or undefined when nothing does: objects keep the
 * members that fit whole and cut the large ones, arrays keep leading items, strings are cut at a character boundary.
 * The result is always valid JSON and every kept scalar is unchanged.
 */
export function prune(value: unknown, budget: number): unknown {
  const size = jsonBytes(value);
  if (size <= budget) return value;
  if (typeof value === 'string') return pruneString(value, budget);
  if (Array.isArray(value)) {
    const kept: unknown[] = [];
    let used = 2;
    for (const item of value) {
      const separator = kept.length > 0 ? 1 : 0;
      const itemBytes = jsonBytes(item);
      if (used + separator + itemBytes <= budget) {
        kept.push(item);
        used += separator + itemBytes;
        continue;
      }
      const part = prune(item, budget - used - separator);
      if (part !== undefined) kept.push(part);
      break;
    }
    return budget >= 2 ? kept : undefined;
  }
  if (typeof value === 'object' && value !== null) {
    if (budget < 2) return undefined;
    // Keep every member that fits whole, smallest first (names, kinds, the relay's own annotations), then cut the
    // large ones, in order, to what is left; the members keep their order.
    const entries = Object.entries(value).map(([key, member]) => ({ key, member, keyBytes: jsonBytes(key) + 1, bytes: jsonBytes(member) }));
    const whole = new Set<string>();
    let used = 2;
    for (const entry of [...entries].sort((a, b) => a.keyBytes + a.bytes - (b.keyBytes + b.bytes))) {
      const cost = (whole.size > 0 ? 1 : 0) + entry.keyBytes + entry.bytes;
      if (used + cost > budget) break;
      whole.add(entry.key);
      used += cost;
    }
    let count = whole.size;
    const kept: Record<string, unknown> = {};
    for (const { key, member, keyBytes } of entries) {
      if (whole.has(key)) {
        setMember(kept, key, member);
        continue;
      }
      const separator = count > 0 ? 1 : 0;
      const part = prune(member, budget - used - separator - keyBytes);
      if (part === undefined) continue;
      setMember(kept, key, part);
      used += separator + keyBytes + jsonBytes(part);
      count++;
    }
    return kept;
  }
  return undefined;
}

/** An own member, also for the key `__proto__`, which plain assignment would take as the object's prototype. */
function setMember(object: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
}

/** The longest prefix of `text` whose JSON string literal fits in `budget` bytes, never splitting a surrogate pair. */
function pruneString(text: string, budget: number): string | undefined {
  if (budget < 2) return undefined;
  let low = 0;
  let high = text.length;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (jsonBytes(text.slice(0, middle)) <= budget) low = middle;
    else high = middle - 1;
  }
  const last = text.charCodeAt(low - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? low - 1 : low);
}
