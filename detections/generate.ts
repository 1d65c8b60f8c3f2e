// npm run detections: regenerates every platform artifact from detections/rules.yaml.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ARTIFACT_PATHS, generateArtifacts } from '../src/detect/artifacts.ts';
import { loadRules } from '../src/detect/rule-source.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const artifacts = generateArtifacts(loadRules(), (path) => readFileSync(`${root}${path}`, 'utf8'));
for (const path of ARTIFACT_PATHS) {
  writeFileSync(`${root}${path}`, artifacts[path]);
  console.log(`wrote ${path}`);
}
