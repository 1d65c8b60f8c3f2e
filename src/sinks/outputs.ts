import { resolve } from 'node:path';
import type { Writable } from 'node:stream';
import type { TokenCredential } from '@azure/identity';
import type { Env, SettingsReader } from '../config.ts';
import type { OutputLog } from './append-file.ts';
import type { OutputNote } from './best-effort-queue.ts';
import { DEFAULT_DEDUPE_CAPACITY, MAX_DEDUPE_CAPACITY, withDeduplication } from './deduplicate.ts';
import { createFanOut, DEFAULT_BEST_EFFORT_QUEUE_BYTES, type FanOut } from './fan-out.ts';
import { createFileSink, createStreamSink } from './json-lines.ts';
import { STORED_TIERS, TIER_OUTPUT_SETTINGS, outputsByTier } from '../tiers/tier-bindings.ts';
import type { TierRouting } from '../tiers/tier-rule.ts';
import { describeOutput, type OutputSpec, parseOutputUri } from './output-uri.ts';
import { withRetry } from './retry.ts';
import type { Sink } from './sink.ts';
import { createTieredSink, type StoredTier } from './tiered.ts';

/** Credentials the HTTP forward outputs present; sent over https only, as the API server does. */
export interface ForwardCredentials {
  /** FORWARD_TOKEN_FILE: a file holding the bearer token. */
  readonly token?: string;
  /** FORWARD_CA_FILE: PEM certificates to trust instead of the system's. */
  readonly ca?: string;
  /** FORWARD_CLIENT_CERT_FILE and FORWARD_CLIENT_KEY_FILE: a client certificate and its key, PEM. */
  readonly cert?: string;
  readonly key?: string;
}

/** Where the relay stores events. */
export interface OutputsConfig {
  /**
   * OUTPUTS (serve: --output, repeatable): URIs that must store every event before the relay answers 2xx, after the
   * entry point's own output if it has one.
   */
  readonly guaranteed: readonly OutputSpec[];
  /**
   * HOT_OUTPUTS, COLD_OUTPUTS, ARCHIVE_OUTPUTS (serve: --hot-output, --cold-output, --archive-output, repeatable):
   * guaranteed outputs that store only the events a tier routing sends to that tier. Default none; with a routing,
   * `guaranteed` outputs are bound by kind (archives to archive, the rest to hot), see docs/outputs.md.
   */
  readonly bound: Readonly<Record<StoredTier, readonly OutputSpec[]>>;
  /** BEST_EFFORT_OUTPUTS (serve: --best-effort-output): URIs that get events if they keep up. Default none. */
  readonly bestEffort: readonly OutputSpec[];
  /** BEST_EFFORT_QUEUE_BYTES: event bytes each best-effort output may hold back. Default 67108864 (64 MiB). */
  readonly bestEffortQueueBytes: number;
  /** DEDUPE_CAPACITY: record keys each output remembers to skip retried batches. Default 100000. */
  readonly dedupeCapacity: number;
  readonly forward: ForwardCredentials;
}

/**
 * Reads OUTPUTS and BEST_EFFORT_OUTPUTS (comma- or newline-separated URIs) and the settings they use. With `own`, the
 * entry point has a guaranteed output of its own (the Lambda's CloudWatch group) and OUTPUTS adds to it; otherwise
 * OUTPUTS is required, or `defaultOutput` stands in for it.
 */
export function readOutputsConfig(reader: SettingsReader, options: { own?: boolean; defaultOutput?: string } = {}): OutputsConfig {
  const parse = (name: string): OutputSpec[] =>
    reader.list(name).flatMap((text, index) => {
      try {
        return [parseOutputUri(text)];
      } catch (error) {
        reader.problem(name, `entry ${index + 1}: ${(error as Error).message}`);
        return [];
      }
    });
  const listed = parse('OUTPUTS');
  const bound = { hot: parse(TIER_OUTPUT_SETTINGS.hot), cold: parse(TIER_OUTPUT_SETTINGS.cold), archive: parse(TIER_OUTPUT_SETTINGS.archive) };
  const anyBound = STORED_TIERS.some((tier) => bound[tier].length > 0);
  const guaranteed = listed.length === 0 && !anyBound && !options.own && options.defaultOutput !== undefined ? [parseOutputUri(options.defaultOutput)] : listed;
  if (guaranteed.length === 0 && !anyBound && !options.own) reader.problem('OUTPUTS', 'is required: list at least one output URI (-, a path, cloudwatch://, azure-monitor://, s3://, an Azure Blob container URL, http(s)://)');
  const bestEffort = parse('BEST_EFFORT_OUTPUTS');
  checkListedOnce(reader, [
    ['OUTPUTS', guaranteed],
    ...STORED_TIERS.map((tier): [string, readonly OutputSpec[]] => [TIER_OUTPUT_SETTINGS[tier], bound[tier]]),
    ['BEST_EFFORT_OUTPUTS', bestEffort],
  ]);

  const cert = reader.file('FORWARD_CLIENT_CERT_FILE');
  const key = reader.file('FORWARD_CLIENT_KEY_FILE');
  if ((cert === undefined) !== (key === undefined)) reader.problem(cert === undefined ? 'FORWARD_CLIENT_CERT_FILE' : 'FORWARD_CLIENT_KEY_FILE', 'is needed too: a client certificate takes both the certificate and its key');
  const token = reader.file('FORWARD_TOKEN_FILE')?.trim();
  const ca = reader.file('FORWARD_CA_FILE');
  const forwards = [...guaranteed, ...STORED_TIERS.flatMap((tier) => bound[tier]), ...bestEffort].filter((spec) => spec.kind === 'http');
  if ((token !== undefined || cert !== undefined) && forwards.some((spec) => spec.kind === 'http' && spec.url.protocol !== 'https:')) {
    reader.problem('FORWARD_TOKEN_FILE', 'credentials are sent over https only, as the API server does; make the http:// forward output https:// or drop the credentials');
  }
  return Object.freeze({
    guaranteed,
    bound,
    bestEffort,
    bestEffortQueueBytes: reader.integer('BEST_EFFORT_QUEUE_BYTES', { default: DEFAULT_BEST_EFFORT_QUEUE_BYTES, min: 1024 }),
    dedupeCapacity: reader.integer('DEDUPE_CAPACITY', { default: DEFAULT_DEDUPE_CAPACITY, min: 0, max: MAX_DEDUPE_CAPACITY }),
    forward: { ...(token ? { token } : {}), ...(ca ? { ca } : {}), ...(cert && key ? { cert, key } : {}) },
  });
}

/**
 * Each destination once across every output setting: two sinks on one file (or stdout) would interleave their lines
 * and repair each other's "torn" tails, and two on one bucket or receiver would each store the same events.
 */
function checkListedOnce(reader: SettingsReader, lists: readonly (readonly [string, readonly OutputSpec[]])[]): void {
  const seen = new Map<string, string>();
  for (const [setting, specs] of lists) {
    for (const spec of specs) {
      const destination = spec.kind === 'file' ? resolve(spec.path) : describeOutput(spec);
      const first = seen.get(destination);
      if (first === undefined) seen.set(destination, setting);
      else reader.problem(setting, `${describeOutput(spec)} is already listed${first === setting ? '' : ` in ${reader.name(first)}`}: list each output once (one output stores one tier; "archive: always" copies events to the archive)`);
    }
  }
}

/** What building outputs needs from the entry point. */
export interface OutputContext {
  /** Where `-` writes. */
  readonly stdout: Writable;
  /** The settings (AWS_ENDPOINT_URL_S3, AZURE_STORAGE_KEY); the SDKs read the rest of their chain themselves. */
  readonly env: Env;
  /** SINK_TIMEOUT_MS: each best-effort send's time. */
  readonly sinkTimeoutMs: number;
  /** MAX_EVENT_BYTES, for CloudWatch's event limit. */
  readonly maxEventBytes: number;
  /** Azure credential for azure-monitor:// and Blob outputs without a SAS or key. Default: DefaultAzureCredential. */
  readonly azureCredential?: TokenCredential;
  /** Log lines about best-effort outputs. */
  readonly note: (note: OutputNote) => void;
  /** Where stdout and file outputs report what they did outside a batch (a repaired torn line, a closed stdout). */
  readonly log?: OutputLog;
  /** Opens a file output; default createFileSink. serve's turns a path it cannot open into a ConfigError. */
  readonly openFile?: (path: string) => Promise<Sink>;
}

/** What every destination is wrapped in, once: retrying under the batch's deadline, then deduplication (DEDUPE_CAPACITY). */
const withDelivery = (sink: Sink, dedupeCapacity: number): Sink => withDeduplication(withRetry(sink), dedupeCapacity);

/** The entry point's own part in `createOutputs`. */
export interface OwnOutputs {
  /** TIERS_PRESET, TIERS or TIERS_FILE, read and checked by readTierBindings. Default none: every output stores every event. */
  readonly routing?: TierRouting;
  /**
   * The entry point's own guaranteed sinks, bare destinations that createOutputs wraps like every other output: its
   * hot destination (without a routing, the one that stores every event) and its cold one. They come first.
   */
  readonly sinks?: Readonly<Partial<Record<StoredTier, Sink>>>;
}

/**
 * Builds every output, each wrapped by `withDelivery`, behind one fan-out. With a routing, the guaranteed outputs are
 * bound to tiers (outputsByTier) behind one tiered sink, which is not wrapped again: records routed to drop are
 * counted on every attempt and each output remembers what it stored. Best-effort outputs get every record the drop
 * rules keep, whatever its tier.
 */
export async function createOutputs(config: OutputsConfig, context: OutputContext, own: OwnOutputs = {}): Promise<FanOut> {
  const build = async (spec: OutputSpec): Promise<Sink> => withDelivery(await createOutputSink(spec, config, context), config.dedupeCapacity);
  const ownSinks = Object.fromEntries(Object.entries(own.sinks ?? {}).map(([tier, sink]) => [tier, withDelivery(sink, config.dedupeCapacity)])) as Partial<Record<StoredTier, Sink>>;
  const guaranteed = own.routing ? [await createTierOutputs(own.routing, config, context, ownSinks, build)] : [...(ownSinks.hot ? [ownSinks.hot] : []), ...(await Promise.all(config.guaranteed.map(build)))];
  // Best-effort outputs are named by their URI: two forwards to different receivers each get their own log lines and metrics.
  const bestEffort = await Promise.all(config.bestEffort.map(async (spec) => named(await build(spec), describeOutput(spec))));
  return createFanOut({
    guaranteed,
    bestEffort,
    bestEffortQueueBytes: config.bestEffortQueueBytes,
    bestEffortTimeoutMs: context.sinkTimeoutMs,
    note: context.note,
  });
}

/** One tiered sink over each tier's outputs: the entry point's own first, several of a tier together in a fan-out. */
async function createTierOutputs(
  routing: TierRouting,
  config: OutputsConfig,
  context: OutputContext,
  ownSinks: Readonly<Partial<Record<StoredTier, Sink>>>,
  build: (spec: OutputSpec) => Promise<Sink>,
): Promise<Sink> {
  const specs = outputsByTier(config.guaranteed, config.bound);
  const sinks: Partial<Record<StoredTier, Sink>> = {};
  for (const tier of STORED_TIERS) {
    const all = [...(ownSinks[tier] ? [ownSinks[tier]] : []), ...(await Promise.all(specs[tier].map(build)))];
    if (all.length > 0) sinks[tier] = all.length === 1 ? all[0]! : createFanOut({ guaranteed: all, bestEffortTimeoutMs: context.sinkTimeoutMs, note: context.note });
  }
  return createTieredSink({ routing, sinks, settings: { hot: 'OUTPUTS or HOT_OUTPUTS', cold: 'COLD_OUTPUTS', archive: 'ARCHIVE_OUTPUTS, or an archive in OUTPUTS' } });
}

const named = (sink: Sink, name: string): Sink => ({ name, maxRecordBytes: sink.maxRecordBytes, send: (records, context) => sink.send(records, context), close: () => sink.close() });

/** One destination's sink. Cloud SDKs load only when an output needs them. */
async function createOutputSink(spec: OutputSpec, config: OutputsConfig, context: OutputContext): Promise<Sink> {
  switch (spec.kind) {
    case 'stdout':
      return createStreamSink(context.stdout, context.log ? { log: context.log } : {});
    case 'file':
      return context.openFile ? context.openFile(spec.path) : createFileSink(spec.path, context.log ? { log: context.log } : {});
    case 'http': {
      const { createHttpForwardSink } = await import('./http-forward.ts');
      return createHttpForwardSink({ url: spec.url, ...config.forward });
    }
    case 's3': {
      const [{ S3Client }, { createS3ArchiveSink }] = await Promise.all([import('@aws-sdk/client-s3'), import('./s3-archive.ts')]);
      const endpoint = context.env.AWS_ENDPOINT_URL_S3 ?? context.env.AWS_ENDPOINT_URL;
      // An endpoint of its own means an S3-compatible store, which may not resolve bucket host names: path-style.
      const client = new S3Client({ maxAttempts: 1, ...(endpoint ? { endpoint, forcePathStyle: true } : {}) });
      return createS3ArchiveSink({ client, bucket: spec.bucket, prefix: spec.prefix });
    }
    case 'cloudwatch': {
      // A stream per cluster, as the Lambda writes them.
      const [{ CloudWatchLogsClient }, { createCloudWatchClusterSink }] = await Promise.all([import('@aws-sdk/client-cloudwatch-logs'), import('./cloudwatch-per-cluster.ts')]);
      return createCloudWatchClusterSink({ client: new CloudWatchLogsClient({ maxAttempts: 1 }), logGroupName: spec.logGroupName, maxEventBytes: context.maxEventBytes });
    }
    case 'azure-monitor': {
      const { createAzureMonitorSink } = await import('./azure-monitor.ts');
      return createAzureMonitorSink({ endpoint: spec.endpoint, ruleId: spec.ruleId, streamName: spec.streamName, credential: await azureCredential(context) });
    }
    case 'azure-blob': {
      const [{ AnonymousCredential, ContainerClient, StorageSharedKeyCredential }, { createAzureBlobArchiveSink }] = await Promise.all([import('@azure/storage-blob'), import('./azure-blob-archive.ts')]);
      const options = { retryOptions: { maxTries: 1 } };
      const key = context.env.AZURE_STORAGE_KEY;
      const container = new URL(spec.containerUrl).search.includes('sig=')
        ? new ContainerClient(spec.containerUrl, new AnonymousCredential(), options)
        : new ContainerClient(spec.containerUrl, key ? new StorageSharedKeyCredential(spec.account, key) : await azureCredential(context), options);
      return createAzureBlobArchiveSink({ container, prefix: spec.prefix });
    }
  }
}

async function azureCredential(context: OutputContext): Promise<TokenCredential> {
  if (context.azureCredential) return context.azureCredential;
  const { DefaultAzureCredential } = await import('@azure/identity');
  return new DefaultAzureCredential();
}
