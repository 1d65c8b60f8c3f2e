// EventList bodies as kube-apiserver's webhook backend sends them, built from the fixture corpus's raw lines.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditEvent } from '../../src/audit/types.ts';
import { FIXTURES_DIR } from './records.ts';

/** Every event line of every *.jsonl fixture, as received. */
export function fixtureLines(): string[] {
  return readdirSync(FIXTURES_DIR)
    .filter((name) => name.endsWith('.jsonl'))
    .sort()
    .flatMap((name) => readFileSync(join(FIXTURES_DIR, name), 'utf8').split('\n'))
    .filter((line) => line.trim().length > 0);
}

/** An `audit.k8s.io/v1` EventList holding the lines unchanged. */
export const eventList = (lines: readonly string[]): string =>
  `{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":[${lines.join(',')}]}`;

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
