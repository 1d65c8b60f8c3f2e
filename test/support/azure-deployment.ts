// The Azure template and its example parameters, expanded with the ARM evaluator as a deployment would see them.
import { readFileSync } from 'node:fs';
import { TemplateEvaluator } from './arm-template.ts';

const read = (file: string) => JSON.parse(readFileSync(new URL(`../../infra/azure/${file}`, import.meta.url), 'utf8')) as Record<string, any>;

/** infra/azure/azuredeploy.json, parsed. */
export const template = read('azuredeploy.json');
/** infra/azure/azuredeploy.parameters.example.json, parsed. */
export const example = read('azuredeploy.parameters.example.json');

/** Values for a deployment: the example file's, with its Key Vault parameter reference standing for a token. */
export function exampleValues(): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(example.parameters as Record<string, { value?: unknown; reference?: unknown }>).map(([name, entry]) => [
      name,
      entry.reference ? '0123456789abcdef0123456789abcdef' : entry.value,
    ]),
  );
}

/** A tiers file for TIERS: what people change hot, the rest of the kept events cold, health probes dropped. */
const TIERS_TO_COLD_FILE = {
  default: 'cold',
  rules: [
    { tier: 'drop', nonResourceURLs: ['/healthz*', '/livez*', '/readyz*'] },
    { tier: 'hot', verbs: ['create', 'update', 'patch', 'delete', 'deletecollection'] },
  ],
};
export const TIERS_TO_COLD = JSON.stringify(TIERS_TO_COLD_FILE);

/**
 * TIERS_TO_COLD that also archives every stored event (`archive: always`): with the archive container, a routing must
 * reach the archive, or the function refuses to start.
 */
export const TIERS_TO_COLD_ARCHIVED = JSON.stringify({ ...TIERS_TO_COLD_FILE, archive: 'always' });

/** Parameters that turn every option on: the cold table (Auxiliary, the more restricted plan) and the archive with immutability. */
export const EVERYTHING_ON: Readonly<Record<string, unknown>> = {
  coldTablePlan: 'Auxiliary',
  TIERS: TIERS_TO_COLD_ARCHIVED,
  archiveContainer: 'create',
  archiveImmutabilityDays: 365,
};

/**
 * The template's resources and outputs for the example's values, with `overrides` on top: `resources` are those the
 * deployment creates, `declared` also those whose condition is false (a dependsOn may name them; ARM ignores it).
 */
export function expand(overrides: Record<string, unknown> = {}) {
  const evaluator = new TemplateEvaluator(template, { ...exampleValues(), ...overrides });
  const declared = evaluator.resources();
  const outputs = evaluator.value(template.outputs) as Record<string, { value: unknown }>;
  return { evaluator, declared, resources: declared.filter((resource) => resource.deployed), outputs };
}

/** The function app's settings in an expansion, by name; values the platform resolves appear as `<reference(...)>`. */
export function appSettings(resources: ReturnType<typeof expand>['resources']): Record<string, string> {
  const site = resources.find((resource) => resource.type === 'Microsoft.Web/sites')!;
  return Object.fromEntries(site.body.properties.siteConfig.appSettings.map((setting: { name: string; value: unknown }) => [setting.name, String(setting.value)]));
}
