import { RecentKeys } from '../sinks/recent-keys.ts';
import type { Sink } from '../sinks/sink.ts';
import { detect, type DetectionMatch } from './detector.ts';
import type { DetectionRule } from './rule.ts';

/** Events remembered so a retried batch does not log its matches twice (as many as the file sink remembers). */
const REMEMBERED = 100_000;

/**
 * Wraps a sink so that each event it stores is run through the detections and every match is passed to `report`:
 * after the store succeeded, so a match always names a stored event, and once per event even when the API server
 * retries the batch. The sink's answer is unchanged; detection never fails a batch.
 */
export function withDetections(sink: Sink, rules: readonly DetectionRule[], report: (match: DetectionMatch) => void): Sink {
  const reported = new RecentKeys(REMEMBERED);
  return {
    name: sink.name,
    maxRecordBytes: sink.maxRecordBytes,
    async send(records, context) {
      const result = await sink.send(records, context);
      for (const record of records) {
        // Routed to drop: stored nowhere, so no match may name it.
        if (record.tiers?.length === 0 || reported.has(record.key)) continue;
        reported.add(record.key);
        for (const match of detect(rules, record.event)) report(match);
      }
      return result;
    },
    close: () => sink.close(),
  } satisfies Sink;
}
