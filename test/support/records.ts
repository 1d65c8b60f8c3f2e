// LogRecords built from fixture lines by the pipeline's own steps (json = the line as received).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeBody } from '../../src/audit/decode.ts';
import { renderRecord } from '../../src/audit/render.ts';
import type { AuditEvent } from '../../src/audit/types.ts';
import { validateEvent } from '../../src/audit/validate.ts';
import type { LogRecord } from '../../src/record.ts';
import { syntheticEvents } from './synthetic-events.ts';

/** The project's own fixture events: hand-written, except v1-large.jsonl (test/fixtures/generate-large.ts). */
export const FIXTURES_DIR = fileURLToPath(new URL('../fixtures/events/', import.meta.url));

/** The project's fixture files, each named for what it holds. */
export const Fixture = {
  /** Metadata-level audit.k8s.io/v1 events: controllers, kubelets, users, non-resource and health requests. */
  Metadata: 'v1-metadata.jsonl',
  /** Request-level pod creates, as a ReplicaSet scale-up records them. */
  Request: 'v1-request.jsonl',
  /** RequestResponse events: Secrets with data, a TokenReview with its token, ConfigMaps, RBAC changes. */
  RequestResponse: 'v1-request-response.jsonl',
  /** audit.k8s.io/v1beta1 events as Kubernetes before 1.13 wrote them (timestamp, metadata). */
  V1beta1: 'v1beta1.jsonl',
  /** Items as the webhook sends them (no kind/apiVersion): non-ASCII text, unknown fields, impersonation, a Panic. */
  Unusual: 'v1-unusual.jsonl',
  /** Events of 70 KB to 160 KB: over the 64 KB field limit and the 100 KB truncation default. */
  Large: 'v1-large.jsonl',
} as const;
export type Fixture = (typeof Fixture)[keyof typeof Fixture];

/** What the pipeline knows beside an event line when it renders the record. */
export interface LineContext {
  /** The caller's cluster: the pipeline adds it to the record and to the event as kube-audit-relay.io/cluster. */
  readonly cluster?: string;
  /** Milliseconds since the epoch when the line arrived: the record's time when the event carries none. Default now. */
  readonly receivedAt?: number;
}

/**
 * The record the pipeline renders for one event line, through its own decode, validate and render steps, with
 * nothing redacted and no size limit: the tests' records cannot drift from the relay's (time, API version, key).
 */
export function renderLine(line: string, context: LineContext = {}): LogRecord {
  const items = [...decodeBody(line).items];
  if (items.length !== 1) throw new Error(`an event line holds one event, this one ${items.length}`);
  const item = items[0]!;
  const { event, apiVersion } = validateEvent(item);
  const receivedAt = context.receivedAt ?? Date.now();
  return renderRecord({ item, event, apiVersion, redacted: [], cluster: context.cluster, maxRecordBytes: Infinity, receivedAt }).record;
}

/** The record for one event JSON line received alone, now, from no particular cluster. */
export const recordFromLine = (line: string): LogRecord => renderLine(line);

/** Distinct records of 700-byte events, about `bytes` in all: a batch as large as a test needs. */
export const recordsOfAbout = (bytes: number): LogRecord[] => syntheticEvents(Math.ceil(bytes / 700), 700).map(recordFromLine);

/** The records as a JSON-lines output holds them. */
export const linesOf = (records: readonly Pick<LogRecord, 'json'>[]): string => records.map((record) => `${record.json}\n`).join('');

/** Every event line of every *.jsonl file in `dir` (default: the project's fixtures). */
export function fixtureRecords(dir = FIXTURES_DIR): LogRecord[] {
  return fixtureFiles(dir).flatMap((file) => file.lines.map(recordFromLine));
}

/**
 * Bodies of a core Secret or a TokenReview: the values REDACT_SECRETS (on by default) replaces, so the relay does not
 * store such an event byte for byte.
 */
export const carriesSecretValues = (event: AuditEvent): boolean =>
  ((event.objectRef?.resource === 'secrets' && !event.objectRef.apiGroup) || event.objectRef?.resource === 'tokenreviews') &&
  (event.requestObject !== undefined || event.responseObject !== undefined);

/** The fixture records the default settings store unchanged: all but those carrying secret values. */
export const plainRecords = (dir = FIXTURES_DIR): LogRecord[] => fixtureRecords(dir).filter((record) => !carriesSecretValues(record.event));

/** A synthetic record with a message of exactly `bytes` UTF-8 bytes, built from a real fixture line's shape. */
export function sizedRecord(index: number, timestamp: number, bytes: number): LogRecord {
  const head = `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"synthetic-${index}","stage":"ResponseComplete","requestURI":"/`;
  const tail = '"}';
  const json = head + 'x'.repeat(Math.max(0, bytes - head.length - tail.length)) + tail;
  // The event carries no time, so the record's is when it arrived.
  const record = renderLine(json, { receivedAt: timestamp });
  if (record.bytes !== bytes) throw new Error(`sized record has ${record.bytes} bytes, wanted ${bytes}`);
  return record;
}

/** Each *.jsonl file in `dir` (default: the project's fixtures) with its non-empty lines, in file order. */
export function fixtureFiles(dir = FIXTURES_DIR): { name: string; lines: string[] }[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.jsonl'))
    .sort()
    .map((name) => ({ name, lines: readLines(join(dir, name)) }));
}

/** The non-empty lines of one of the project's fixture files. */
export const fixtureFile = (name: Fixture): string[] => readLines(join(FIXTURES_DIR, name));

/** The one line of a project fixture file whose auditID starts with `auditIdPrefix`, at `stage`. */
export function fixtureLine(name: Fixture, auditIdPrefix: string, stage = 'ResponseComplete'): string {
  const found = fixtureFile(name).filter((line) => {
    const event = JSON.parse(line) as AuditEvent;
    return event.auditID.startsWith(auditIdPrefix) && event.stage === stage;
  });
  if (found.length !== 1) throw new Error(`${name} has ${found.length} ${stage} events with an auditID starting ${auditIdPrefix}, wanted 1`);
  return found[0]!;
}

const readLines = (path: string): string[] =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim().length > 0);
