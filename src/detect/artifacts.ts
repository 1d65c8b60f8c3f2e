import { awsDetectionAlarmsTemplate, awsDetectionQueriesTemplate, awsNoDetectionAlarmsTemplate } from './aws-template.ts';
import { azureDetectionsTemplate } from './azure-template.ts';
import { withRulesTable } from './docs-table.ts';
import type { DetectionRule } from './rule.ts';

/** Files generated from the rule source, by path from the repository root. */
export const ARTIFACT_PATHS = [
  'infra/aws/detection-queries.yml',
  'infra/aws/detection-alarms-metric-filter.yml',
  'infra/aws/detection-alarms-none.yml',
  'infra/azure/detections.json',
  'docs/detections.md',
] as const;
export type ArtifactPath = (typeof ARTIFACT_PATHS)[number];

/** What each generated file must hold; `current` gives a file's present text (the docs keep their prose). */
export function generateArtifacts(rules: readonly DetectionRule[], current: (path: ArtifactPath) => string): Record<ArtifactPath, string> {
  return {
    'infra/aws/detection-queries.yml': awsDetectionQueriesTemplate(rules),
    'infra/aws/detection-alarms-metric-filter.yml': awsDetectionAlarmsTemplate(rules),
    'infra/aws/detection-alarms-none.yml': awsNoDetectionAlarmsTemplate(),
    'infra/azure/detections.json': azureDetectionsTemplate(rules),
    'docs/detections.md': withRulesTable(current('docs/detections.md'), rules),
  };
}
