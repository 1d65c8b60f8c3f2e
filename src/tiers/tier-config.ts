import type { SettingsReader } from '../config.ts';
import type { OutputsConfig } from '../sinks/outputs.ts';
import { reachableTiers, type StoredTier } from '../sinks/tiered.ts';
import { checkTierBindings, type OwnTierOutput } from './tier-bindings.ts';
import { parseTierFile, presetRouting } from './tier-file.ts';
import type { TierRouting } from './tier-rule.ts';

/** The settings a routing can come from; serve's `--preset` and `--tiers` set the first and the last. */
const ROUTING_SETTINGS = ['TIERS_PRESET', 'TIERS', 'TIERS_FILE'] as const;

/**
 * TIERS_PRESET (security, compliance, minimal), TIERS (a tiers file's content) or TIERS_FILE (its path): the routing
 * of events to tiers, or undefined when none is set (every event goes to the one destination, as without tiers).
 */
export function readTierRouting(reader: SettingsReader): TierRouting | undefined {
  const given = ROUTING_SETTINGS.filter((name) => reader.string(name) !== undefined);
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

/** What an entry point stores itself, for `readTierBindings`. */
export interface EntryPointTiers {
  /** Its optional destinations per tier, e.g. `{cold: {setting: 'COLD_LOG_GROUP_NAME', given: true}}`. */
  readonly own?: Readonly<Partial<Record<StoredTier, OwnTierOutput>>>;
  /** Tiers it always stores (the functions' hot destination). */
  readonly alwaysStored?: readonly StoredTier[];
}

/**
 * The tier routing (readTierRouting) and its outputs, checked together the same way for serve and both functions:
 * every tier the routing reaches must have an output bound to it, and every bound output a tier the routing reaches
 * (see checkTierBindings and docs/outputs.md).
 */
export function readTierBindings(reader: SettingsReader, outputs: OutputsConfig, entry: EntryPointTiers = {}): TierRouting | undefined {
  const before = reader.problems.length;
  const routing = readTierRouting(reader);
  // A routing that could not be read has already been reported; what it reaches is unknown.
  if (reader.problems.length > before) return undefined;
  const routingSetting = ROUTING_SETTINGS.find((name) => reader.string(name) !== undefined) ?? 'TIERS_PRESET';
  if (routing === undefined) {
    for (const own of Object.values(entry.own ?? {})) {
      if (own.given) reader.problem(own.setting, `is set, but no tier routing is set: set ${reader.name('TIERS_PRESET')}, ${reader.name('TIERS')} or ${reader.name('TIERS_FILE')}, or remove it`);
    }
  }
  checkTierBindings(reader, {
    reachable: routing ? reachableTiers(routing) : undefined,
    routingSetting,
    unbound: outputs.guaranteed,
    bound: outputs.bound,
    ...entry,
  });
  return routing;
}
