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

/** The template's resources and outputs for the example's values, with `overrides` on top. */
export function expand(overrides: Record<string, unknown> = {}) {
  const evaluator = new TemplateEvaluator(template, { ...exampleValues(), ...overrides });
  const resources = evaluator.resources();
  const outputs = evaluator.value(template.outputs) as Record<string, { value: unknown }>;
  return { evaluator, resources, outputs };
}
