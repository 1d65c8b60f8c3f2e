// The project's own detection fixtures (test/fixtures/detections/<rule>.yaml), completed into full audit events.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import type { AuditEvent } from '../../src/audit/types.ts';

export const DETECTION_FIXTURES_DIR = fileURLToPath(new URL('../fixtures/detections/', import.meta.url));

export interface DetectionFixture {
  /** `<rule>.yaml positive[0]`, for assertion messages. */
  readonly name: string;
  readonly file: string;
  readonly kind: 'positive' | 'negative';
  readonly event: AuditEvent;
  /** Exactly the rules that must flag the event. */
  readonly flaggedBy: ReadonlySet<string>;
}

/** An audit.k8s.io/v1 Event with the fields a fixture leaves out; a field given as null is removed. */
function complete(partial: Record<string, unknown>, auditID: string): AuditEvent {
  const event: Record<string, unknown> = {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'RequestResponse',
    auditID,
    stage: 'ResponseComplete',
    requestURI: '/',
    verb: 'get',
    user: { username: 'alice@example.com', groups: ['system:authenticated'] },
    sourceIPs: ['192.0.2.10'],
    userAgent: 'kubectl/v1.31.0 (linux/amd64) kubernetes/abcdef0',
    responseStatus: { metadata: {}, code: 200 },
    requestReceivedTimestamp: '2026-01-05T10:00:00.000000Z',
    stageTimestamp: '2026-01-05T10:00:00.010000Z',
    annotations: { 'authorization.k8s.io/decision': 'allow', 'authorization.k8s.io/reason': '' },
    ...partial,
  };
  for (const [key, value] of Object.entries(event)) if (value === null) delete event[key];
  return event as AuditEvent;
}

/** Every fixture event of every rule file. */
export function detectionFixtures(): DetectionFixture[] {
  return readdirSync(DETECTION_FIXTURES_DIR)
    .filter((name) => name.endsWith('.yaml'))
    .sort()
    .flatMap((file) => {
      const rule = file.replace(/\.yaml$/, '');
      const document = parse(readFileSync(join(DETECTION_FIXTURES_DIR, file), 'utf8')) as Record<'positive' | 'negative', Record<string, unknown>[] | undefined>;
      return (['positive', 'negative'] as const).flatMap((kind) =>
        (document[kind] ?? []).map(({ alsoFlags, ...partial }, index) => ({
          name: `${file} ${kind}[${index}]`,
          file: rule,
          kind,
          event: complete(partial, `fixture-${rule}-${kind}-${index}`),
          flaggedBy: new Set([...(kind === 'positive' ? [rule] : []), ...((alsoFlags as string[] | undefined) ?? [])]),
        })),
      );
    });
}
