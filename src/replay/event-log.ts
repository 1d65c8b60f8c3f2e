import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { AuditApiVersion } from '../audit/types.ts';

/** Events to send in one EventList, kept as the exact JSON text read. */
export interface EventBatch {
  /** apiVersion of the EventList: v1beta1 when all its items are v1beta1 (as that API server would send), else v1. */
  readonly apiVersion: AuditApiVersion;
  readonly items: readonly string[];
  /** 1-based numbers of the log lines of the first and last item, for messages that must not quote them. */
  readonly lines: readonly [first: number, last: number];
}

/** A line of the log that is not an audit event, reported by number and never by content. */
export interface SkippedLine {
  readonly line: number;
  readonly reason: string;
}

/** How batches are cut besides their size. */
export interface BatchCutting {
  /**
   * Start a new batch where the log changes between v1beta1 and v1, as two API servers would send them (default).
   * Off, batches are cut by size alone and one holding both is a v1 EventList (each item keeps its own apiVersion).
   */
  readonly byApiVersion?: boolean;
}

/** One non-blank line of a JSON-lines stream, parsed. */
export interface JsonLine {
  /** 1-based. */
  readonly line: number;
  /** The line as read, without the whitespace around it. */
  readonly text: string;
  readonly value: unknown;
}

/** The non-blank lines of a JSON-lines stream, each parsed; a line that is not JSON goes to `skip` and is left out. */
export async function* readJsonLines(input: Readable, skip: (skipped: SkippedLine) => void): AsyncGenerator<JsonLine> {
  let number = 0;
  for await (const raw of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
    number += 1;
    const text = raw.trim();
    if (text === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      skip({ line: number, reason: 'not JSON' });
      continue;
    }
    yield { line: number, text, value };
  }
}

/**
 * Reads an API server audit log (`--audit-log-path`: one JSON event per line) and yields batches of at most
 * `batchSize` events. Lines that are not JSON objects with an auditID are passed to `skip` and left out.
 */
export async function* readEventBatches(
  input: Readable,
  batchSize: number,
  skip: (skipped: SkippedLine) => void,
  cutting: BatchCutting = {},
): AsyncGenerator<EventBatch> {
  const byApiVersion = cutting.byApiVersion ?? true;
  let items: string[] = [];
  let apiVersion: AuditApiVersion = AuditApiVersion.V1;
  let first = 0;
  let last = 0;
  for await (const { line: number, text: line, value: event } of readJsonLines(input, skip)) {
    if (typeof event !== 'object' || event === null || Array.isArray(event) || typeof (event as { auditID?: unknown }).auditID !== 'string') {
      skip({ line: number, reason: 'not an audit event (no auditID)' });
      continue;
    }
    const version = (event as { apiVersion?: unknown }).apiVersion === AuditApiVersion.V1beta1 ? AuditApiVersion.V1beta1 : AuditApiVersion.V1;
    if (items.length > 0 && ((byApiVersion && version !== apiVersion) || items.length >= batchSize)) {
      yield { apiVersion, items, lines: [first, last] };
      items = [];
    }
    if (items.length === 0) first = number;
    apiVersion = items.length === 0 || version === apiVersion ? version : AuditApiVersion.V1;
    items.push(line);
    last = number;
  }
  if (items.length > 0) yield { apiVersion, items, lines: [first, last] };
}

/** The body the API server's webhook POSTs: an EventList around the items, byte for byte. */
export const eventListBody = (batch: EventBatch): string =>
  `{"kind":"EventList","apiVersion":"${batch.apiVersion}","metadata":{},"items":[${batch.items.join(',')}]}`;
