import type { Readable } from 'node:stream';
import type { AuditEvent } from '../audit/types.ts';
import { readJsonLines, type SkippedLine } from '../replay/event-log.ts';

/**
 * The audit events of a JSON-lines stream: the API server's audit.log (one Event per line), the relay's own output,
 * or webhook bodies (one EventList per line). Blank lines are skipped; others that hold no event are passed to `skip` (by number, never content).
 */
export async function* readEventLines(input: Readable, skip: (skipped: SkippedLine) => void): AsyncGenerator<AuditEvent> {
  for await (const { line, value } of readJsonLines(input, skip)) {
    const record = value as { kind?: unknown; items?: unknown; auditID?: unknown; verb?: unknown };
    if (record?.kind === 'EventList' && Array.isArray(record.items)) {
      yield* record.items as AuditEvent[];
    } else if (record !== null && typeof record === 'object' && typeof record.auditID === 'string' && typeof record.verb === 'string') {
      yield record as AuditEvent;
    } else {
      skip({ line, reason: 'neither an audit Event nor an EventList' });
    }
  }
}
