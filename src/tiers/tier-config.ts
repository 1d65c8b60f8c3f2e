import type { SettingsReader } from '../config.ts';
import { parseTierFile, presetRouting } from './tier-file.ts';
import type { TierRouting } from './tier-rule.ts';

/**
 * TIERS_PRESET (security, compliance, minimal) or TIERS_FILE (a tiers file): the routing of events to tiers, or
 * undefined when neither is set (every event goes to the one destination, as without tiers).
 */
export function readTierRouting(reader: SettingsReader): TierRouting | undefined {
  const preset = reader.string('TIERS_PRESET');
  const text = reader.file('TIERS_FILE');
  if (preset !== undefined && reader.string('TIERS_FILE') !== undefined) {
    reader.problem('TIERS_PRESET', `set either TIERS_PRESET or ${reader.name('TIERS_FILE')}, not both`);
    return undefined;
  }
  if (preset !== undefined) return presetRouting(preset, 'TIERS_PRESET', reader);
  return text === undefined ? undefined : parseTierFile(text, 'TIERS_FILE', reader);
}
