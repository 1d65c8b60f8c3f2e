import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { AuditEvent } from '../audit/types.ts';

/** One input line that held no audit event; only its number, never its content. */
export interface UnreadableLine {
  readonly line: number;
  readonly why: string;
}

/**
 * The audit events of a JSON-lines stream: the API server's audit.log (one Event per line), the relay's own output,
 * or webhook bodies (one EventList per line). Blank lines are skipped; others that hold no event are reported.
 */
export async function* readEventLines(input: Readable, onUnreadable: (problem: UnreadableLine) => void): AsyncGenerator<AuditEvent> {
  let number = 0;
  for await (const text of createInterface({ input, crlfDelay: Infinity })) {
    number++;
    if (text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      onUnreadable({ line: number, why: 'is not JSON' });
      continue;
    }
    const record = value as { kind?: unknown; items?: unknown; auditID?: unknown; verb?: unknown };
    if (record?.kind === 'EventList' && Array.isArray(record.items)) {
      yield* record.items as AuditEvent[];
    } else if (record !== null && typeof record === 'object' && typeof record.auditID === 'string' && typeof record.verb === 'string') {
      yield record as AuditEvent;
    } else {
      onUnreadable({ line: number, why: 'is neither an audit Event nor an EventList' });
    }
  }
}
