import { awsDetectionsTemplate } from './aws-template.ts';
import { azureDetectionsTemplate } from './azure-template.ts';
import { withRulesTable } from './docs-table.ts';
import type { DetectionRule } from './rule.ts';

/** Files generated from the rule source, by path from the repository root. */
export const ARTIFACT_PATHS = ['infra/aws/detections.yml', 'infra/azure/detections.json', 'docs/detections.md'] as const;
export type ArtifactPath = (typeof ARTIFACT_PATHS)[number];

/** What each generated file must hold; `current` gives a file's present text (the docs keep their prose). */
export function generateArtifacts(rules: readonly DetectionRule[], current: (path: ArtifactPath) => string): Record<ArtifactPath, string> {
  return {
    'infra/aws/detections.yml': awsDetectionsTemplate(rules),
    'infra/azure/detections.json': azureDetectionsTemplate(rules),
    'docs/detections.md': withRulesTable(current('docs/detections.md'), rules),
  };
}
