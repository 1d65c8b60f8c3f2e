import type { SettingsReader } from '../config.ts';
import { describeOutput, type OutputSpec } from '../sinks/output-uri.ts';
import type { StoredTier } from '../sinks/tiered.ts';
import { Tier } from './tier-rule.ts';

/** The tiers an output can be bound to, in the order they are listed. */
export const STORED_TIERS: readonly StoredTier[] = [Tier.Hot, Tier.Cold, Tier.Archive];

/** The setting (serve: `--hot-output`, `--cold-output`, `--archive-output`) that binds outputs to each tier explicitly. */
export const TIER_OUTPUT_SETTINGS = { hot: 'HOT_OUTPUTS', cold: 'COLD_OUTPUTS', archive: 'ARCHIVE_OUTPUTS' } as const satisfies Record<StoredTier, string>;

/** Object storage (s3://, Azure Blob): outputs of this kind in OUTPUTS store the archive tier. */
const isArchiveOutput = (spec: OutputSpec): boolean => spec.kind === 's3' || spec.kind === 'azure-blob';

/** The outputs of each tier: OUTPUTS by kind (archives to archive, every other output to hot), then each tier's own setting. */
export function outputsByTier(unbound: readonly OutputSpec[], bound: Readonly<Record<StoredTier, readonly OutputSpec[]>>): Record<StoredTier, OutputSpec[]> {
  return {
    hot: [...unbound.filter((spec) => !isArchiveOutput(spec)), ...bound.hot],
    cold: [...bound.cold],
    archive: [...unbound.filter(isArchiveOutput), ...bound.archive],
  };
}

/** An optional destination of the entry point's own for a tier (the Lambda's COLD_LOG_GROUP_NAME), by setting. */
export interface OwnTierOutput {
  /** The setting that names it, e.g. `COLD_LOG_GROUP_NAME`. */
  readonly setting: string;
  /** Whether it is set. */
  readonly given: boolean;
}

/** What `checkTierBindings` checks. */
export interface TierBindingCheck {
  /** The tiers the routing can send events to; undefined without a routing. */
  readonly reachable: readonly StoredTier[] | undefined;
  /** The setting the routing came from (TIERS_PRESET, TIERS, TIERS_FILE), named in messages. */
  readonly routingSetting: string;
  /** OUTPUTS: guaranteed outputs bound by kind. */
  readonly unbound: readonly OutputSpec[];
  /** HOT_OUTPUTS, COLD_OUTPUTS, ARCHIVE_OUTPUTS. */
  readonly bound: Readonly<Record<StoredTier, readonly OutputSpec[]>>;
  /** The entry point's optional destinations per tier. */
  readonly own?: Readonly<Partial<Record<StoredTier, OwnTierOutput>>>;
  /** Tiers the entry point always stores itself (the functions' hot LOG_GROUP_NAME, LOGS_STREAM_NAME). Default none. */
  readonly alwaysStored?: readonly StoredTier[];
}

/**
 * Records a problem for every tier the routing reaches that no output stores, for every output bound to a tier the
 * routing never reaches (it would stay empty), and for tier bindings without a routing; each names the setting and
 * the fix.
 */
export function checkTierBindings(reader: SettingsReader, check: TierBindingCheck): void {
  const { reachable, unbound, bound } = check;
  const own = check.own ?? {};
  const name = (setting: string): string => reader.name(setting);
  if (reachable === undefined) {
    for (const tier of STORED_TIERS) {
      if (bound[tier].length > 0) {
        reader.problem(TIER_OUTPUT_SETTINGS[tier], `binds outputs to the ${tier} tier, but no tier routing is set: set ${name('TIERS_PRESET')} or ${name('TIERS_FILE')}, or list them in ${name('OUTPUTS')}`);
      }
    }
    return;
  }
  const routing = name(check.routingSetting);
  for (const tier of STORED_TIERS) {
    const given = own[tier]?.given === true;
    const outputs = tier === Tier.Hot ? unbound.filter((spec) => !isArchiveOutput(spec)) : tier === Tier.Archive ? unbound.filter(isArchiveOutput) : [];
    const stored = given || check.alwaysStored?.includes(tier) === true || outputs.length > 0 || bound[tier].length > 0;
    if (reachable.includes(tier)) {
      if (!stored) reader.problem(check.routingSetting, `sends events to the ${tier} tier, but no output is bound to it: ${bindingFix(tier, name, own[tier]?.setting)}; or send those events to another tier with a tiers file (${name('TIERS_FILE')})`);
      continue;
    }
    const why = `${routing} never sends events to the ${tier} tier`;
    if (given) reader.problem(own[tier]!.setting, `is set, but ${why}: set a routing that does, or remove it`);
    if (bound[tier].length > 0) reader.problem(TIER_OUTPUT_SETTINGS[tier], `is set, but ${why}: list the outputs under a tier it reaches, or remove them`);
    for (const spec of outputs) {
      const fix = tier === Tier.Archive ? `add "archive: always" to a tiers file (${name('TIERS_FILE')}) to archive every stored event, or list it in ${name(TIER_OUTPUT_SETTINGS.hot)} or ${name(TIER_OUTPUT_SETTINGS.cold)}` : `list it under a tier the routing reaches, e.g. ${name(TIER_OUTPUT_SETTINGS.cold)}`;
      reader.problem('OUTPUTS', `${describeOutput(spec)} stores the ${tier} tier, but ${why}: ${fix}`);
    }
  }
}

/** How to bind an output to `tier`, in the user's terms. */
function bindingFix(tier: StoredTier, name: (setting: string) => string, ownSetting: string | undefined): string {
  const ways = [
    ...(ownSetting ? [`set ${name(ownSetting)}`] : []),
    ...(tier === Tier.Archive ? [`list an s3:// or Azure Blob archive in ${name('OUTPUTS')}`] : tier === Tier.Hot ? [`list an output in ${name('OUTPUTS')}`] : []),
    `list ${tier === Tier.Cold ? 'an' : 'any'} output in ${name(TIER_OUTPUT_SETTINGS[tier])}`,
  ];
  return ways.join(', or ');
}
