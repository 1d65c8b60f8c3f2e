import type { SettingsReader } from '../config.ts';
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
