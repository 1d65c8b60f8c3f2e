import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Where the relay runs, for the cost estimate. */
export type CostPlatform = 'aws' | 'azure';
export const COST_PLATFORMS: readonly CostPlatform[] = ['aws', 'azure'];

/** One price with what it buys and where it comes from. */
export interface PriceEntry {
  readonly usdPerGB: number;
  /** For the archive: one write per batch. */
  readonly usdPerRequest?: number;
  readonly what: string;
  /** Whether two independent sources agreed on the figure when it was looked up. */
  readonly confirmed: boolean;
  readonly sources: readonly string[];
}

/** A prices file (prices/aws.json, prices/azure.json, or --prices FILE): data, with its date and sources. */
export interface Prices {
  readonly platform: CostPlatform;
  readonly region: string;
  readonly currency: 'USD';
  /** When the prices were looked up (YYYY-MM-DD). */
  readonly date: string;
  /** 1,000,000,000: both clouds bill decimal GB. */
  readonly bytesPerGB: number;
  readonly daysPerMonth: number;
  readonly notes: readonly string[];
  readonly tiers: { readonly hot: PriceEntry; readonly cold: PriceEntry; readonly archive: PriceEntry };
  /** The platform's own audit logging, for the comparison. */
  readonly native: PriceEntry;
  /** Bytes the destination counts per event on top of the record (CloudWatch Logs: 26). */
  readonly overheadBytesPerEvent: number;
  /** The relay's compute: per batch, (msPerBatch + msPerEvent x events) x memoryGB x usdPerGBSecond + usdPerInvocation. */
  readonly compute: {
    readonly what: string;
    readonly memoryGB: number;
    readonly usdPerGBSecond: number;
    readonly usdPerInvocation: number;
    readonly msPerBatch: number;
    readonly msPerEvent: number;
    readonly timing: string;
  };
  /** The front door's per-request price (API Gateway), 0 where there is none. */
  readonly requests: { readonly what: string; readonly usdPerRequest: number };
}

/** The shipped prices file of a platform. */
export const shippedPricesPath = (platform: CostPlatform): string => fileURLToPath(new URL(`../../prices/${platform}.json`, import.meta.url));

/** Why a prices file cannot be used; the message names the file and the field. */
export class PricesError extends Error {
  override readonly name = 'PricesError';
}

const NUMBER_FIELDS = [
  'bytesPerGB',
  'daysPerMonth',
  'overheadBytesPerEvent',
  'tiers.hot.usdPerGB',
  'tiers.cold.usdPerGB',
  'tiers.archive.usdPerGB',
  'native.usdPerGB',
  'compute.memoryGB',
  'compute.usdPerGBSecond',
  'compute.usdPerInvocation',
  'compute.msPerBatch',
  'compute.msPerEvent',
  'requests.usdPerRequest',
];

const at = (value: unknown, path: string): unknown =>
  path.split('.').reduce<unknown>((node, key) => (node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), value);

/** Reads and checks a prices file; `label` names it in errors (`--prices my.json`). */
export function readPrices(path: string, platform: CostPlatform, label: string): Prices {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new PricesError(`${label}: ${code ? `cannot be read (${code})` : `is not JSON: ${(error as Error).message}`}`, { cause: error });
  }
  const problems = NUMBER_FIELDS.filter((field) => {
    const number = at(value, field);
    return typeof number !== 'number' || !Number.isFinite(number) || number < 0;
  }).map((field) => `${field} must be a number of at least 0`);
  for (const field of ['bytesPerGB', 'daysPerMonth', 'compute.memoryGB']) if (at(value, field) === 0) problems.push(`${field} must be above 0`);
  if (at(value, 'platform') !== platform) problems.push(`platform is ${JSON.stringify(at(value, 'platform'))}, but --platform is ${platform}`);
  if (typeof at(value, 'date') !== 'string') problems.push('date must say when the prices were looked up (YYYY-MM-DD)');
  if (problems.length > 0) throw new PricesError(`${label}: ${problems.join('; ')}`);
  return value as Prices;
}
