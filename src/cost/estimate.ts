import { API_SERVER_DEFAULTS, bodyBudget, eventsThatFit, largestBatchBytes, RECEIVER_LIMITS } from '../generate/apiserver-flags.ts';
import { TIERS, Tier } from '../tiers/tier-rule.ts';
import type { SampleVolume } from './measure.ts';
import type { CostPlatform, Prices } from './prices.ts';

/** How the API server batches events (its --audit-webhook-batch-* flags). */
export interface Batching {
  readonly batchMaxSize: number;
  readonly batchMaxWaitSeconds: number;
}

/** One tier of the estimate: the sample's events and billed bytes there, and dollars per month at the stated rate. */
export interface TierCost {
  readonly tier: Tier;
  readonly events: number;
  readonly bytes: number;
  readonly usdPerMonth: number;
}

/** What `cost --json` prints: exactly the shape. */
export interface CostReport {
  readonly platform: CostPlatform;
  readonly events: number;
  readonly bytes: number;
  readonly tiers: readonly TierCost[];
  readonly usdPerMillionEvents: number;
  readonly nativeUsdPerMillionEvents: number;
}

/** The report plus the figures the text output explains it with. */
export interface CostEstimate {
  readonly report: CostReport;
  readonly eventsPerMonth: number;
  readonly batchesPerDay: number;
  readonly computeUsdPerMonth: number;
  readonly requestsUsdPerMonth: number;
  readonly totalUsdPerMonth: number;
  readonly nativeUsdPerMonth: number;
}

const SECONDS_PER_DAY = 86_400;

/** Dollars rounded to a millionth, so printed and compared figures are the same. */
export const usd = (value: number): number => Math.round(value * 1e6) / 1e6;

/**
 * Batches the API server sends a day: full ones when events come faster than batch-max-size per batch-max-wait,
 * otherwise one per batch-max-wait (fewer if there are fewer events than that).
 */
export const batchesPerDay = (eventsPerDay: number, batching: Batching): number =>
  Math.max(eventsPerDay / batching.batchMaxSize, Math.min(eventsPerDay, SECONDS_PER_DAY / batching.batchMaxWaitSeconds));

/** The relay's own compute and front-door requests per month for a batching. */
export function relayUsdPerMonth(prices: Prices, eventsPerDay: number, batching: Batching): { compute: number; requests: number; batchesPerDay: number } {
  const perDay = batchesPerDay(eventsPerDay, batching);
  const batchesPerMonth = perDay * prices.daysPerMonth;
  const eventsPerBatch = perDay === 0 ? 0 : eventsPerDay / perDay;
  const { compute } = prices;
  const seconds = (compute.msPerBatch + compute.msPerEvent * eventsPerBatch) / 1000;
  return {
    compute: batchesPerMonth * (seconds * compute.memoryGB * compute.usdPerGBSecond + compute.usdPerInvocation),
    requests: batchesPerMonth * prices.requests.usdPerRequest,
    batchesPerDay: perDay,
  };
}

/** Scales the sample to `eventsPerDay` and prices every tier, the relay itself and the native logging. */
export function estimateCost(volume: SampleVolume, prices: Prices, eventsPerDay: number, batching: Batching): CostEstimate {
  const eventsPerMonth = eventsPerDay * prices.daysPerMonth;
  const scale = volume.events === 0 ? 0 : eventsPerMonth / volume.events;
  const relay = relayUsdPerMonth(prices, eventsPerDay, batching);
  const tiers = TIERS.map((tier): TierCost => {
    const { events, bytes, batches } = volume.tiers[tier];
    let usdPerMonth = 0;
    if (tier !== Tier.Drop) {
      const price = prices.tiers[tier];
      usdPerMonth = ((bytes * scale) / prices.bytesPerGB) * price.usdPerGB;
      // One write per batch that holds records for the tier, in the share of the sample's batches that did.
      const writesPerMonth = volume.batches === 0 ? 0 : relay.batchesPerDay * prices.daysPerMonth * (batches / volume.batches);
      usdPerMonth += writesPerMonth * (price.usdPerRequest ?? 0);
    }
    return { tier, events, bytes, usdPerMonth: usd(usdPerMonth) };
  });
  const total = tiers.reduce((sum, tier) => sum + tier.usdPerMonth, 0) + relay.compute + relay.requests;
  const native = ((volume.nativeBytes * scale) / prices.bytesPerGB) * prices.native.usdPerGB;
  const millions = eventsPerMonth / 1e6;
  return {
    report: {
      platform: prices.platform,
      events: volume.events,
      bytes: volume.bytes,
      tiers,
      usdPerMillionEvents: usd(millions === 0 ? 0 : total / millions),
      nativeUsdPerMillionEvents: usd(millions === 0 ? 0 : native / millions),
    },
    eventsPerMonth,
    batchesPerDay: relay.batchesPerDay,
    computeUsdPerMonth: usd(relay.compute),
    requestsUsdPerMonth: usd(relay.requests),
    totalUsdPerMonth: usd(total),
    nativeUsdPerMonth: usd(native),
  };
}

/** The batch size the platform's body limit allows with events truncated at `maxEventBytes` (at most the API server's 400). */
export const fittingBatchSize = (platform: CostPlatform, maxEventBytes: number): number =>
  Math.max(1, Math.min(API_SERVER_DEFAULTS.batchMaxSize, eventsThatFit(platform, maxEventBytes)));

/** The largest truncate-max-event-size with which `batchMaxSize` events still fit the platform's body limit. */
export function truncationFor(platform: CostPlatform, batchMaxSize: number): number {
  const budget = bodyBudget(RECEIVER_LIMITS[platform]);
  return Math.floor((budget - largestBatchBytes(0, 0)) / batchMaxSize) - 1;
}
