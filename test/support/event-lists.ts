// EventList bodies as kube-apiserver's webhook backend sends them, built from fixture lines as received.
import type { AuditEvent } from '../../src/audit/types.ts';
import { eventList } from './http-client.ts';
import { FIXTURES_DIR, fixtureFiles, plainRecords } from './records.ts';

/** Every event line of every *.jsonl file in `dir` (default: the project's fixtures), as received. */
export const fixtureLines = (dir = FIXTURES_DIR): string[] => fixtureFiles(dir).flatMap((file) => file.lines);

/** The fixture lines the default settings store byte for byte (see carriesSecretValues). */
export const plainLines = (dir = FIXTURES_DIR): string[] => plainRecords(dir).map((record) => record.json);

/**
 * `count` lines cycling through `lines`, each with an auditID of its own: the volume of a busy cluster from a few
 * fixture events, for tests of splitting, retries and de-duplication.
 */
export const repeatedLines = (count: number, lines: readonly string[] = plainLines()): string[] =>
  Array.from({ length: count }, (_, i) => lines[i % lines.length]!.replace(/"auditID":"/, `"auditID":"copy-${Math.floor(i / lines.length)}-`));

export { eventList };

/** The lines in EventLists of at most `size` (the API server's --audit-webhook-batch-max-size, default 400). */
export function batches(lines: readonly string[], size = 400): string[] {
  const bodies: string[] = [];
  for (let i = 0; i < lines.length; i += size) bodies.push(eventList(lines.slice(i, i + size)));
  return bodies;
}

/** The events of the distinct lines: a store that skips retried events keeps one of each identical event. */
export function uniqueEvents(lines: readonly string[]): AuditEvent[] {
  return [...new Set(lines)].map((line) => JSON.parse(line) as AuditEvent);
}
