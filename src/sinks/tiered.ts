import { ConfigError } from '../errors.ts';
import type { LogRecord } from '../record.ts';
import { ArchiveCopy, destinations, Tier, type TierRouting } from '../tiers/tier-rule.ts';
import type { Sink, SinkResult } from './sink.ts';

/** The tiers a sink can be bound to (drop has none). */
export type StoredTier = Exclude<Tier, 'drop'>;

export interface TieredSinkOptions {
  readonly routing: TierRouting;
  /** The sink bound to each tier; every tier the routing can choose needs one. */
  readonly sinks: Readonly<Partial<Record<StoredTier, Sink>>>;
  /** How a tier's sink is configured, for the error when one is missing: `{cold: 'COLD_LOG_GROUP_NAME'}`. */
  readonly settings?: Readonly<Partial<Record<StoredTier, string>>>;
}

/** Every tier the routing can send an event to. */
export function reachableTiers(routing: TierRouting): StoredTier[] {
  const tiers = new Set<Tier>([...routing.rules.map((rule) => rule.tier), routing.default]);
  if (routing.archive === ArchiveCopy.Always) tiers.add(Tier.Archive);
  tiers.delete(Tier.Drop);
  return [...tiers] as StoredTier[];
}

const ZERO: SinkResult = { written: 0, duplicates: 0, restamped: 0, calls: 0 };

/**
 * Sends each record to the sink bound to its tier, all tiers at once; resolves once every tier stored its records.
 * Records routed to drop are counted in `routedToDrop`. Copies made by `archive: always` go to the archive sink in a call of
 * their own and do not count as written: each event counts once, in its tier.
 */
export function createTieredSink(options: TieredSinkOptions): Sink {
  const { routing, sinks } = options;
  const missing = reachableTiers(routing).filter((tier) => !sinks[tier]);
  if (missing.length > 0) {
    throw new ConfigError(missing.map((tier) => `the tier routing sends events to ${tier}, but no ${tier} destination is configured${options.settings?.[tier] ? ` (${options.settings[tier]})` : ''}`));
  }
  const bound = Object.values(sinks);
  return {
    name: `tiered(${Object.entries(sinks).map(([tier, sink]) => `${tier}=${sink.name}`).join(',')})`,
    maxRecordBytes: Math.min(...bound.map((sink) => sink.maxRecordBytes)),
    async send(records, context) {
      const primary = new Map<StoredTier, LogRecord[]>();
      const copies: LogRecord[] = [];
      let routedToDrop = 0;
      for (const record of records) {
        const [tier, copy] = (record.tiers ?? destinations(routing, record.event)) as StoredTier[];
        if (tier === undefined) {
          routedToDrop++;
          continue;
        }
        const batch = primary.get(tier);
        if (batch) batch.push(record);
        else primary.set(tier, [record]);
        if (copy) copies.push(record);
      }
      const calls = [...primary].map(([tier, batch]) => sinks[tier]!.send(batch, context));
      const copied = copies.length > 0 ? sinks.archive!.send(copies, context) : Promise.resolve(ZERO);
      const [results, copyResult] = await Promise.all([Promise.all(calls), copied]);
      const sum = (field: 'written' | 'duplicates' | 'restamped' | 'truncated'): number => results.reduce((total, result) => total + (result[field] ?? 0), 0);
      return {
        written: sum('written'),
        duplicates: sum('duplicates'),
        restamped: sum('restamped'),
        truncated: sum('truncated'),
        calls: results.reduce((total, result) => total + result.calls, copyResult.calls),
        routedToDrop,
      };
    },
    async close() {
      await Promise.all(bound.map((sink) => sink.close()));
    },
  };
}
