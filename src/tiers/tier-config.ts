import type { SettingsReader } from '../config.ts';
import { reachableTiers } from '../sinks/tiered.ts';
import { parseTierFile, presetRouting } from './tier-file.ts';
import type { TierRouting } from './tier-rule.ts';

/**
 * TIERS_PRESET (security, compliance, minimal), TIERS (a tiers file's content) or TIERS_FILE (its path): the routing
 * of events to tiers, or undefined when none is set (every event goes to the one destination, as without tiers).
 */
export function readTierRouting(reader: SettingsReader): TierRouting | undefined {
  const given = (['TIERS_PRESET', 'TIERS', 'TIERS_FILE'] as const).filter((name) => reader.string(name) !== undefined);
  if (given.length > 1) {
    reader.problem(given[0]!, `set only one of ${given.map((name) => reader.name(name)).join(', ')}`);
    return undefined;
  }
  const preset = reader.string('TIERS_PRESET');
  if (preset !== undefined) return presetRouting(preset, 'TIERS_PRESET', reader);
  const inline = reader.string('TIERS');
  if (inline !== undefined) return parseTierFile(inline, 'TIERS', reader);
  const text = reader.file('TIERS_FILE');
  return text === undefined ? undefined : parseTierFile(text, 'TIERS_FILE', reader);
}

/**
 * The tier routing of a function whose cold destination is the setting `coldSetting` (COLD_LOG_GROUP_NAME,
 * COLD_LOGS_STREAM_NAME): that setting is required when a rule routes to cold and refused when none does, and the
 * archive tier, which no function can store yet, is refused.
 */
export function readFunctionTierRouting(reader: SettingsReader, coldSetting: string, runtime: string): TierRouting | undefined {
  const tiers = readTierRouting(reader);
  const reachable = tiers ? reachableTiers(tiers) : [];
  const tierSetting = (['TIERS_PRESET', 'TIERS'] as const).find((name) => reader.string(name) !== undefined) ?? 'TIERS_FILE';
  const coldGiven = reader.string(coldSetting) !== undefined;
  if (reachable.includes('cold') && !coldGiven) reader.problem(coldSetting, `is required: ${tierSetting} sends events to the cold tier`);
  if (reachable.includes('archive')) reader.problem(tierSetting, `sends events to the archive tier, which the ${runtime} cannot store yet: route those rules to cold or drop`);
  if (coldGiven && !reachable.includes('cold')) reader.problem(coldSetting, 'is set, but no tier routing sends events to cold: set TIERS or TIERS_FILE, or remove it');
  return tiers;
}
