import { API_SERVER_DEFAULTS } from '../generate/apiserver-flags.ts';
import { fittingBatchSize, relayUsdPerMonth, truncationFor, usd, type Batching } from './estimate.ts';
import type { CostPlatform, Prices } from './prices.ts';

/** How the API server batches and truncates: the flags that set the relay's number of requests. */
export interface WebhookBatching extends Batching {
  /** --audit-webhook-truncate-max-event-size. */
  readonly truncateMaxEventSize: number;
}

/** One batching of the API server's webhook and what the relay's compute and requests cost with it. */
export interface BatchOption {
  readonly flags: string;
  readonly batchesPerDay: number;
  readonly usdPerMonth: number;
  /** What the option gives up. */
  readonly tradeOff: string;
}

const SMALLER_TRUNCATIONS = [65_536, 32_768, 16_384];

const flagsOf = (batching: WebhookBatching): string =>
  `--audit-webhook-batch-max-size=${batching.batchMaxSize} --audit-webhook-truncate-max-event-size=${batching.truncateMaxEventSize} --audit-webhook-batch-max-wait=${batching.batchMaxWaitSeconds}s`;

/**
 * The API-server flags that change the relay's compute and request cost: the batching given; smaller truncation sizes,
 * which let more events fit the platform's body limit per batch (up to the API server's 400); and a longer wait, which
 * makes fuller batches when events come slowly.
 */
export function batchOptions(platform: CostPlatform, prices: Prices, eventsPerDay: number, current: WebhookBatching): BatchOption[] {
  const option = (batching: WebhookBatching, tradeOff: string): BatchOption => {
    const { compute, requests, batchesPerDay } = relayUsdPerMonth(prices, eventsPerDay, batching);
    return { flags: flagsOf(batching), batchesPerDay, usdPerMonth: usd(compute + requests), tradeOff };
  };
  const options = [option(current, 'as estimated above')];
  const largest = API_SERVER_DEFAULTS.batchMaxSize;
  if (current.batchMaxSize < largest) {
    const truncations = [...SMALLER_TRUNCATIONS.filter((size) => size < current.truncateMaxEventSize), truncationFor(platform, largest)];
    for (const truncateMaxEventSize of [...new Set(truncations)].sort((a, b) => b - a)) {
      const batchMaxSize = fittingBatchSize(platform, truncateMaxEventSize);
      if (batchMaxSize <= current.batchMaxSize) continue;
      options.push(option({ ...current, batchMaxSize, truncateMaxEventSize }, `events over ${truncateMaxEventSize} bytes lose their request and response bodies at the API server, so that ${batchMaxSize} fit the platform's body limit`));
    }
  }
  const wait = Math.max(60, current.batchMaxWaitSeconds * 2);
  const waiting = option({ ...current, batchMaxWaitSeconds: wait }, `fuller batches while events come slower than ${current.batchMaxSize} per ${current.batchMaxWaitSeconds} s; events reach the relay (and alerts fire) up to ${wait} s late`);
  if (waiting.batchesPerDay < options[0]!.batchesPerDay) options.push(waiting);
  return options;
}
