// LogRecords built from real fixture lines the way the pipeline renders them (json = the line as received).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AuditApiVersion, AuditEvent } from '../../src/audit/types.ts';
import { type LogRecord, recordKey } from '../../src/record.ts';

/** The shared real-event corpus; CI clones the project with ../shared beside it. */
export const FIXTURES_DIR = fileURLToPath(new URL('../../../shared/fixtures/real/', import.meta.url));

/** A record for one event JSON line; `timestamp` from stageTimestamp, else requestReceivedTimestamp, else timestamp. */
export function recordFromLine(line: string): LogRecord {
  const event = JSON.parse(line) as AuditEvent & Record<string, unknown>;
  const time = (event.stageTimestamp ?? event.requestReceivedTimestamp ?? event.timestamp) as string | undefined;
  const record = {
    auditID: event.auditID,
    stage: event.stage,
    timestamp: time ? Date.parse(time) : Date.now(),
    json: line,
    bytes: Buffer.byteLength(line, 'utf8'),
    event,
    apiVersion: event.apiVersion as AuditApiVersion,
  };
  return { ...record, key: recordKey(record) };
}

/** Every event line of every *.jsonl fixture. */
export function fixtureRecords(): LogRecord[] {
  return readdirSync(FIXTURES_DIR)
    .filter((name) => name.endsWith('.jsonl'))
    .flatMap((name) => readFileSync(join(FIXTURES_DIR, name), 'utf8').split('\n'))
    .filter((line) => line.trim().length > 0)
    .map(recordFromLine);
}

/** A synthetic record with a message of exactly `bytes` UTF-8 bytes, built from a real fixture line's shape. */
export function sizedRecord(index: number, timestamp: number, bytes: number): LogRecord {
  const head = `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"synthetic-${index}","stage":"ResponseComplete","requestURI":"/`;
  const tail = '"}';
  const json = head + 'x'.repeat(Math.max(0, bytes - head.length - tail.length)) + tail;
  const record = recordFromLine(json);
  if (record.bytes !== bytes) throw new Error(`sized record has ${record.bytes} bytes, wanted ${bytes}`);
  return { ...record, timestamp };
}

/** Each *.jsonl fixture with its non-empty lines, in file order. */
export function fixtureFiles(): { name: string; lines: string[] }[] {
  return readdirSync(FIXTURES_DIR)
    .filter((name) => name.endsWith('.jsonl'))
    .sort()
    .map((name) => ({
      name,
      lines: readFileSync(join(FIXTURES_DIR, name), 'utf8')
        .split('\n')
        .filter((line) => line.trim().length > 0),
    }));
}
