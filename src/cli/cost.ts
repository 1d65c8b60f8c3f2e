import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { text as readStream } from 'node:stream/consumers';
import { MIN_RECORD_BYTES } from '../audit/render.ts';
import { readPipelineConfig, SettingsReader, type Env, type PipelineConfig } from '../config.ts';
import { batchOptions } from '../cost/batch-advice.ts';
import { estimateCost, fittingBatchSize } from '../cost/estimate.ts';
import { measureSample, SampleError } from '../cost/measure.ts';
import { COST_PLATFORMS, PricesError, readPrices, shippedPricesPath, type CostPlatform } from '../cost/prices.ts';
import { renderCostText } from '../cost/render-text.ts';
import { API_SERVER_DEFAULTS } from '../generate/apiserver-flags.ts';
import { type EventBatch, readEventBatches, type SkippedLine } from '../replay/event-log.ts';
import { PRESET_NAMES } from '../tiers/presets.ts';
import { parseTierFile, presetRouting } from '../tiers/tier-file.ts';
import { ArchiveCopy, Tier, type TierRouting } from '../tiers/tier-rule.ts';
import { InputError, integerFlag, parseCommandLine, unreadable, UsageError, type Command } from './command.ts';

const usage = `usage: kube-audit-relay cost [FILE|-] --platform aws|azure [--preset NAME | --tiers FILE] [--events-per-day N]
                             [--prices FILE] [--json] [--truncate-max-event-size N] [--batch-max-size N]
                             [--batch-max-wait SECONDS]

Estimates what storing audit events costs: runs a sample (an audit.log, or serve's output: JSON lines) through the
relay's pipeline (drop rules, redaction, truncation, tier routing, the destination's own record format) and prints,
per tier, the sample's events and billed bytes and the dollars a month at --events-per-day, the relay's compute and
requests, the total per million events, and the platform's own audit logging for the same events. Nothing is
fetched: prices come from prices/<platform>.json (with their date and sources) or --prices.
DROP_RULES(_FILE), REDACT_SECRETS, REDACT_PATHS, MAX_EVENT_BYTES and CLUSTER_NAME apply as they do for serve.

flags:
  --platform NAME           aws (CloudWatch Logs, Lambda, API Gateway) or azure (Log Analytics, Flex Consumption)
  --preset NAME             tier routing preset: ${PRESET_NAMES.join(', ')} (default: no routing, every event hot)
  --tiers FILE              a tiers file instead of a preset (see docs/cost.md)
  --events-per-day N        audit events a day the sample is scaled to (default 1000000)
  --prices FILE             prices to use instead of the shipped prices/<platform>.json
  --json                    print {"platform","events","bytes","tiers":[...],"usdPerMillionEvents","nativeUsdPerMillionEvents"}
  --truncate-max-event-size N
                            --audit-webhook-truncate-max-event-size (default 102400): the sample's events are
                            truncated to it, and it sets the default batch size
  --batch-max-size N        --audit-webhook-batch-max-size (default: the most events of the truncation size that
                            fit the platform's body limit, at most 400, as kube-audit-relay flags computes)
  --batch-max-wait SECONDS  --audit-webhook-batch-max-wait (default 30)
The relay's compute and requests depend on these three; the output compares the batch flags that lower them.
  -h, --help                this text`;

const EVERYTHING_HOT: TierRouting = { rules: [], default: Tier.Hot, archive: ArchiveCopy.Never };
const DEFAULT_TRUNCATION_BYTES = API_SERVER_DEFAULTS.truncateMaxEventSize;

/** `kube-audit-relay cost`: what audit costs through the relay, per tier, against the platform's own logging. */
export const costCommand: Command = {
  name: 'cost',
  summary: 'estimate what a sample of audit events costs per tier, against EKS or AKS audit logging',
  usage,
  async run(args, io) {
    const { values, positionals } = parseCommandLine(
      args,
      {
        platform: { type: 'string' },
        preset: { type: 'string' },
        tiers: { type: 'string' },
        'events-per-day': { type: 'string' },
        prices: { type: 'string' },
        json: { type: 'boolean' },
        'truncate-max-event-size': { type: 'string' },
        'batch-max-size': { type: 'string' },
        'batch-max-wait': { type: 'string' },
      },
      { positionals: true },
    );
    if (positionals.length > 1) throw new UsageError(`give at most one FILE, got ${positionals.length}`);
    const platform = values.platform;
    if (platform === undefined) throw new UsageError(`--platform is required: one of ${COST_PLATFORMS.join(', ')}`);
    if (!(COST_PLATFORMS as string[]).includes(platform)) throw new UsageError(`unknown --platform '${platform}': use one of ${COST_PLATFORMS.join(', ')}`);
    if (values.preset !== undefined && values.tiers !== undefined) throw new UsageError('give --preset or --tiers, not both');
    const eventsPerDay = integerFlag('events-per-day', values['events-per-day'], 1, 1e12) ?? 1_000_000;
    const truncateMaxEventSize = integerFlag('truncate-max-event-size', values['truncate-max-event-size'], MIN_RECORD_BYTES, 100 * 1024 * 1024) ?? DEFAULT_TRUNCATION_BYTES;
    const batchMaxSize = integerFlag('batch-max-size', values['batch-max-size'], 1, 100_000) ?? fittingBatchSize(platform as CostPlatform, truncateMaxEventSize);
    const batchMaxWaitSeconds = integerFlag('batch-max-wait', values['batch-max-wait'], 1, 86_400) ?? 30;

    const routing = await readRouting(values.preset, values.tiers);
    const pricesFile = values.prices ?? shippedPricesPath(platform as CostPlatform);
    let prices;
    try {
      prices = readPrices(pricesFile, platform as CostPlatform, values.prices === undefined ? pricesFile : `--prices ${values.prices}`);
    } catch (error) {
      if (error instanceof PricesError) throw new InputError(error.message, { cause: error });
      throw error;
    }
    const config = pipelineConfig(io.env, truncateMaxEventSize);
    const file = positionals[0] ?? '-';
    const source = file === '-' ? 'stdin' : file;
    const batches = await sampleBatches(await readSample(file, io.stdin), batchMaxSize, source);
    if (batches.length === 0) throw new InputError(`${source} holds no audit events: give an audit.log (one Event per line) as FILE`);
    let volume;
    try {
      volume = await measureSample(batches, { config, routing, platform: platform as CostPlatform, prices });
    } catch (error) {
      if (error instanceof SampleError) throw new InputError(`${source}: ${error.message}`, { cause: error });
      throw error;
    }
    const batching = { batchMaxSize, batchMaxWaitSeconds, truncateMaxEventSize };
    const estimate = estimateCost(volume, prices, eventsPerDay, batching);
    if (values.json) {
      io.stdout.write(`${JSON.stringify(estimate.report)}\n`);
      return 0;
    }
    io.stdout.write(
      renderCostText({
        estimate,
        prices,
        pricesFile: values.prices ?? `prices/${platform}.json`,
        routing: values.preset ? `--preset ${values.preset}` : values.tiers ? `--tiers ${values.tiers}` : 'none (every event hot)',
        eventsPerDay,
        pipelineMsPerBatch: volume.pipelineMsPerBatch,
        batchOptions: batchOptions(platform as CostPlatform, prices, eventsPerDay, batching),
      }),
    );
    return 0;
  },
};

async function readRouting(preset: string | undefined, tiersFile: string | undefined): Promise<TierRouting> {
  const reader = new SettingsReader({}, (name) => name);
  let routing: TierRouting | undefined = EVERYTHING_HOT;
  if (preset !== undefined) routing = presetRouting(preset, '--preset', reader);
  if (tiersFile !== undefined) {
    let text: string;
    try {
      text = await readFile(tiersFile, 'utf8');
    } catch (error) {
      throw unreadable('--tiers', tiersFile, error);
    }
    routing = parseTierFile(text, `--tiers ${tiersFile}`, reader);
  }
  if (reader.problems.length > 0 || routing === undefined) throw new InputError(reader.problems.join('; '));
  return routing;
}

/** serve's pipeline settings from the environment; authentication and the body limit do not apply to a sample. */
function pipelineConfig(env: Env, truncateMaxEventSize: number): PipelineConfig {
  const settings = Object.fromEntries(Object.entries(env).filter(([name]) => !name.startsWith('AUTH_') && name !== 'MAX_BODY_BYTES'));
  const reader = new SettingsReader({ ...settings, AUTH_MODE: 'none' });
  const config = readPipelineConfig(reader, { maxBodyBytes: 2 ** 40 });
  reader.finish();
  // The API server's truncation comes first; the relay's own MAX_EVENT_BYTES may cut further.
  return { ...config, maxEventBytes: Math.min(config.maxEventBytes, truncateMaxEventSize) };
}

/**
 * The sample in the batches the API server's webhook would send, read as `replay` reads a log; a line that is not an
 * event refuses it. Cut by size alone: a sample joined from clusters of both API versions would otherwise be cut at
 * every change into small batches, which no one API server sends, and which skew the per-batch costs.
 */
async function sampleBatches(text: string, batchMaxSize: number, source: string): Promise<EventBatch[]> {
  const refuse = (skipped: SkippedLine): never => {
    throw new InputError(`${source}: line ${skipped.line} is ${skipped.reason}: give an audit.log (one Event per line) as FILE`);
  };
  const batches: EventBatch[] = [];
  for await (const batch of readEventBatches(Readable.from([text]), batchMaxSize, refuse, { byApiVersion: false })) batches.push(batch);
  return batches;
}

async function readSample(file: string, stdin: NodeJS.ReadableStream): Promise<string> {
  if (file === '-') return readStream(stdin);
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw unreadable('FILE', file, error);
  }
}
