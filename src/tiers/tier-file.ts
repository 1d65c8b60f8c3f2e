import { parse as parseYaml } from 'yaml';
import { checkDropRule, type SettingsReader } from '../config.ts';
import { PRESET_NAMES, PRESETS, type PresetName } from './presets.ts';
import { ArchiveCopy, Tier, TIER_RULE_MATCH_FIELDS, TIERS, type TierRouting, type TierRule } from './tier-rule.ts';

const FILE_FIELDS = ['default', 'archive', 'rules'];
const ARCHIVE_COPIES: readonly string[] = Object.values(ArchiveCopy);

/**
 * Reads a tiers file (YAML or JSON): `{default: TIER, archive: never|always, rules: [{tier: TIER, ...match fields}]}`.
 * Every problem is reported under `name` (the setting or flag) with the rule's index and the field, e.g.
 * `TIERS_FILE: rules[2]: unknown field "verb"`.
 */
export function parseTierFile(text: string, name: string, reader: SettingsReader): TierRouting | undefined {
  const before = reader.problems.length;
  const problem = (message: string): void => reader.problem(name, message);
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    problem(`is not valid JSON or YAML: ${(error as Error).message.split('\n')[0]}`);
    return undefined;
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    problem('must be a mapping with default, archive and rules, e.g. {default: cold, rules: [{tier: hot, verbs: [create]}]}');
    return undefined;
  }
  const file = document as Record<string, unknown>;
  for (const field of Object.keys(file)) if (!FILE_FIELDS.includes(field)) problem(`unknown field ${JSON.stringify(field)}; known: ${FILE_FIELDS.join(', ')}`);
  const fallback = file.default ?? Tier.Cold;
  if (!TIERS.includes(fallback as Tier)) problem(`default: must be one of ${TIERS.join(', ')}, not ${JSON.stringify(fallback)}`);
  const archive = file.archive ?? ArchiveCopy.Never;
  if (!ARCHIVE_COPIES.includes(archive as string)) problem(`archive: must be one of ${ARCHIVE_COPIES.join(', ')}, not ${JSON.stringify(archive)}`);
  const rules = file.rules ?? [];
  if (!Array.isArray(rules)) {
    problem('rules: must be a list of rules, each with a tier and match fields');
    return undefined;
  }
  rules.forEach((rule: unknown, index) => checkTierRule(rule, `rules[${index}]`, name, reader));
  if (reader.problems.length > before) return undefined;
  return Object.freeze({ default: fallback as Tier, archive: archive as ArchiveCopy, rules: Object.freeze(rules as TierRule[]) });
}

function checkTierRule(rule: unknown, path: string, name: string, reader: SettingsReader): void {
  const problem = (message: string): void => reader.problem(name, `${path}: ${message}`);
  if (typeof rule !== 'object' || rule === null || Array.isArray(rule)) return problem('must be a mapping with a tier and match fields');
  const { tier, responseCodes, impersonated, why, ...match } = rule as Record<string, unknown>;
  if (tier === undefined) problem(`tier: is required, one of ${TIERS.join(', ')}`);
  else if (!TIERS.includes(tier as Tier)) problem(`tier: must be one of ${TIERS.join(', ')}, not ${JSON.stringify(tier)}`);
  if (responseCodes !== undefined && !(Array.isArray(responseCodes) && responseCodes.length > 0 && responseCodes.every((code) => Number.isInteger(code)))) {
    problem('responseCodes: must be a non-empty list of HTTP status codes, e.g. [401, 403]');
  }
  if (impersonated !== undefined && typeof impersonated !== 'boolean') problem('impersonated: must be true or false');
  if (why !== undefined && typeof why !== 'string') problem('why: must be text');
  const selects = Object.keys(match).length > 0 || responseCodes !== undefined || impersonated !== undefined;
  if (!selects) return problem('has no match fields and would match every event: set the file\'s default instead');
  if (Object.keys(match).length > 0) checkDropRule(match, `${reader.name(name)}: ${path}`, reader, TIER_RULE_MATCH_FIELDS);
}

/** The routing a preset name stands for, or undefined (with a problem under `name`) for an unknown one. */
export function presetRouting(preset: string, name: string, reader: SettingsReader): TierRouting | undefined {
  if ((PRESET_NAMES as string[]).includes(preset)) return PRESETS[preset as PresetName];
  reader.problem(name, `must be one of ${PRESET_NAMES.join(', ')}, not ${JSON.stringify(preset)}`);
  return undefined;
}
