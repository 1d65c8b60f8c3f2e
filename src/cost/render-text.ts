import type { BatchOption } from './batch-advice.ts';
import type { CostEstimate } from './estimate.ts';
import type { Prices } from './prices.ts';

const NATIVE_NAME = { aws: 'EKS control-plane audit logging', azure: 'AKS diagnostic settings (AKSAudit)' } as const;

const money = (value: number): string => (value >= 100 ? value.toFixed(0) : value >= 1 ? value.toFixed(2) : value.toPrecision(3));
const count = (value: number): string => Math.round(value).toLocaleString('en-US');

export interface TextInputs {
  readonly estimate: CostEstimate;
  readonly prices: Prices;
  readonly pricesFile: string;
  readonly routing: string;
  readonly eventsPerDay: number;
  readonly pipelineMsPerBatch: number;
  readonly batchOptions: readonly BatchOption[];
}

/** The estimate for people: per tier, the relay itself, the total, the native comparison, and the batch flags. */
export function renderCostText(inputs: TextInputs): string {
  const { estimate, prices } = inputs;
  const { report } = estimate;
  const share = (events: number): string => (report.events === 0 ? '-' : `${((100 * events) / report.events).toFixed(1)}%`);
  const rows = report.tiers.map((tier) =>
    [tier.tier.padEnd(8), count(tier.events).padStart(9), share(tier.events).padStart(7), count(tier.bytes).padStart(13), money(tier.usdPerMonth).padStart(12)].join(' '),
  );
  const ratio = report.nativeUsdPerMillionEvents === 0 ? '-' : `${(report.usdPerMillionEvents / report.nativeUsdPerMillionEvents).toFixed(2)}x`;
  return [
    `sample: ${count(report.events)} events, ${count(report.bytes)} bytes as received; platform ${report.platform} (${prices.region}); routing ${inputs.routing}`,
    `scaled to ${count(inputs.eventsPerDay)} events a day, ${prices.daysPerMonth} days a month; prices from ${inputs.pricesFile}, looked up ${prices.date}`,
    '',
    'tier        events   share  billed bytes   USD/month',
    ...rows,
    '(events and bytes are the sample\'s; archive counts archive: always copies too; drop is drop rules and the drop tier)',
    '',
    `relay compute: ${prices.compute.what}, ${count(estimate.batchesPerDay)} batches a day at ${prices.compute.msPerBatch} ms + ${prices.compute.msPerEvent} ms per event: USD ${money(estimate.computeUsdPerMonth)} a month`,
    `  (the pipeline alone took ${inputs.pipelineMsPerBatch.toFixed(1)} ms per batch here, without the destination's calls)`,
    `relay requests: ${prices.requests.what}: USD ${money(estimate.requestsUsdPerMonth)} a month`,
    `total: USD ${money(estimate.totalUsdPerMonth)} a month, USD ${money(report.usdPerMillionEvents)} per million events`,
    `native: ${NATIVE_NAME[report.platform]}, every event at USD ${prices.native.usdPerGB}/GB: USD ${money(estimate.nativeUsdPerMonth)} a month, USD ${money(report.nativeUsdPerMillionEvents)} per million events`,
    `relay / native: ${ratio}`,
    '',
    'API-server batch flags and the relay\'s compute and requests a month:',
    ...inputs.batchOptions.map((option) => `  ${option.flags}: ${count(option.batchesPerDay)} batches a day, USD ${money(option.usdPerMonth)}; ${option.tradeOff}`),
    '',
  ].join('\n');
}
