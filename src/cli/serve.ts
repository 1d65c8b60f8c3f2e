import { once } from 'node:events';
import { accessSync, constants } from 'node:fs';
import { dirname } from 'node:path';
import { readPipelineConfig, SettingsReader, type Env } from '../config.ts';
import { checkEveryCallerHasACluster } from '../every-caller-has-a-cluster.ts';
import { withDetections } from '../detect/detecting-sink.ts';
import { createMatchOutput, isMatchOutput, type MatchOutput } from '../detect/match-output.ts';
import { loadRules } from '../detect/rule-source.ts';
import { ConfigError } from '../errors.ts';
import { startMetricsServer } from '../metrics-server.ts';
import { createPipeline } from '../pipeline.ts';
import { createRelayMetrics } from '../prometheus.ts';
import { DEFAULT_MAX_INFLIGHT_BYTES, startServer, type TlsSettings } from './server.ts';
import { createFileSink } from '../sinks/json-lines.ts';
import { describeOutput, type OutputSpec, parseOutputUri } from '../sinks/output-uri.ts';
import { createOutputs, type OutputsConfig, readOutputsConfig } from '../sinks/outputs.ts';
import { createPerClusterSink, isPerClusterPath } from '../sinks/per-cluster.ts';
import { STORED_TIERS, outputsByTier } from '../tiers/tier-bindings.ts';
import { readTierBindings } from '../tiers/tier-config.ts';
import { PRESET_NAMES } from '../tiers/presets.ts';
import type { TierRouting } from '../tiers/tier-rule.ts';
import { parseCommandLine, type Command } from './command.ts';
import { checkTlsMaterial, listenProblem, openOutputFile } from './serve-startup.ts';

/** Each flag and the environment variable it overrides. */
const FLAG_VARIABLES = {
  host: 'LISTEN_HOST',
  port: 'LISTEN_PORT',
  output: 'OUTPUTS',
  'best-effort-output': 'BEST_EFFORT_OUTPUTS',
  preset: 'TIERS_PRESET',
  tiers: 'TIERS_FILE',
  'hot-output': 'HOT_OUTPUTS',
  'cold-output': 'COLD_OUTPUTS',
  'archive-output': 'ARCHIVE_OUTPUTS',
  'forward-token-file': 'FORWARD_TOKEN_FILE',
  'forward-client-cert': 'FORWARD_CLIENT_CERT_FILE',
  'forward-client-key': 'FORWARD_CLIENT_KEY_FILE',
  'forward-ca': 'FORWARD_CA_FILE',
  cluster: 'CLUSTER_NAME',
  'auth-mode': 'AUTH_MODE',
  'token-file': 'AUTH_TOKEN_FILE',
  'basic-auth-file': 'AUTH_BASIC_FILE',
  'tls-cert': 'TLS_CERT_FILE',
  'tls-key': 'TLS_KEY_FILE',
  'client-ca': 'TLS_CLIENT_CA_FILE',
  'client-cert-cluster': 'CLIENT_CERT_CLUSTER',
  'max-body-bytes': 'MAX_BODY_BYTES',
  'max-event-bytes': 'MAX_EVENT_BYTES',
  'max-inflight-bytes': 'MAX_INFLIGHT_BYTES',
  'drop-rules-file': 'DROP_RULES_FILE',
  'request-timeout-ms': 'REQUEST_TIMEOUT_MS',
  'metrics-port': 'METRICS_PORT',
  'detect-output': 'DETECT_OUTPUT',
} as const;

type Flag = keyof typeof FLAG_VARIABLES;
/** Flags that may be given more than once; their values join into the variable's list. */
const REPEATABLE: readonly Flag[] = ['output', 'best-effort-output', 'hot-output', 'cold-output', 'archive-output'];

const usage = `usage: kube-audit-relay serve [flags]

Runs the receiver locally: the audit webhook POSTs batches here, every event is stored in each output (JSON lines
on stdout or in a file, the API server's own audit.log format, CloudWatch Logs, Azure Monitor Logs, an S3 or Azure
Blob archive, or forwarded over HTTP), and 2xx is answered only once every guaranteed output stored all of them.

flags (each overrides the environment variable in brackets):
  --host HOST              address to listen on [LISTEN_HOST] (default 127.0.0.1; 0.0.0.0 in a container)
  --port N                 port, 0 for any free one [LISTEN_PORT] (default 3000)
  --output URI             a guaranteed output, repeatable [OUTPUTS, comma-separated] (default -, stdout):
                           - | PATH | file:///PATH | cloudwatch://GROUP | azure-monitor://HOST/DCR/STREAM |
                           s3://BUCKET/PREFIX/ | https://ACCOUNT.blob.core.windows.net/CONTAINER/ | http(s)://...
                           a {cluster} in PATH makes one file per cluster, e.g. 'audit-{cluster}.jsonl'
  --best-effort-output URI an output that never delays or fails the answer, repeatable [BEST_EFFORT_OUTPUTS]
  --preset NAME            route each event to a tier: ${PRESET_NAMES.join(', ')} [TIERS_PRESET] (docs/cost.md);
                           then --output stores hot events, or archive ones for s3:// and Blob archives
  --tiers FILE             a tiers file instead of a preset [TIERS_FILE]
  --hot-output URI         a guaranteed output of the hot tier only, repeatable [HOT_OUTPUTS]
  --cold-output URI        the same for the cold tier [COLD_OUTPUTS]
  --archive-output URI     the same for the archive tier [ARCHIVE_OUTPUTS] (docs/outputs.md, "Tiers")
  --forward-token-file F   bearer token for http(s) outputs, sent over https only [FORWARD_TOKEN_FILE]
  --forward-client-cert F  client certificate (PEM) for https outputs [FORWARD_CLIENT_CERT_FILE]
  --forward-client-key F   and its key [FORWARD_CLIENT_KEY_FILE]
  --forward-ca F           CA certificates (PEM) to trust for https outputs [FORWARD_CA_FILE]
  --cluster NAME           annotate each event with kube-audit-relay.io/cluster [CLUSTER_NAME], unless the
                           caller's credential names its cluster
  --auth-mode MODE         none|token|basic|token+basic [AUTH_MODE] (default: from the credentials given)
  --token-file FILE        bearer tokens accepted, one per line, \`<token>\` or \`<token> <cluster>\` [AUTH_TOKEN_FILE];
                           also AUTH_TOKENS=a,b
  --basic-auth-file FILE   \`username:password\` or \`username:password <cluster>\` lines accepted [AUTH_BASIC_FILE]
  --tls-cert FILE          serve https with this certificate chain (PEM) [TLS_CERT_FILE]
  --tls-key FILE           and this private key (PEM) [TLS_KEY_FILE]
  --client-ca FILE         require client certificates signed by this CA for POSTs (mutual TLS; health checks
                           need none) [TLS_CLIENT_CA_FILE]
  --client-cert-cluster CN|O  the client certificate subject field naming the caller's cluster [CLIENT_CERT_CLUSTER]
  --max-body-bytes N       refuse larger bodies with 413 [MAX_BODY_BYTES] (default 67108864)
  --max-event-bytes N      truncate larger events to fit [MAX_EVENT_BYTES] (default 1048576)
  --max-inflight-bytes N   bodies read or processed at once; more waits: 503 with Retry-After [MAX_INFLIGHT_BYTES]
                           (default 67108864; memory is up to about 13x this, see docs/hostile-testing.md)
  --drop-rules-file FILE   JSON or YAML list of rules for events not to store [DROP_RULES_FILE]
  --request-timeout-ms N   time a client may take to send a request, 408 after [REQUEST_TIMEOUT_MS] (default 60000)
  --metrics-port N         serve GET /metrics (Prometheus) on this port, plain http without credentials, instead
                           of on --port [METRICS_PORT] (default: on --port, behind its TLS but not its credentials)
  --detect                 run the detections (kube-audit-relay detect) on every stored event and log each match
  --detect-output URI      also send each match, best-effort, to a file (a JSON line each) or an http(s) webhook
                           (a JSON POST each) [DETECT_OUTPUT]; never delays or fails the answer
  -h, --help               this text

also from the environment: AUTH_TOKENS, REDACT_SECRETS (default true), REDACT_PATHS, DROP_RULES, SINK_TIMEOUT_MS,
BEST_EFFORT_QUEUE_BYTES, DEDUPE_CAPACITY, AWS_ENDPOINT_URL_S3, AZURE_STORAGE_KEY (see docs/outputs.md).
The API server sends credentials only over https: with a token or basic auth, give --tls-cert and --tls-key.
Logs one JSON line per batch to stderr, and with --detect one per detection match (msg "detection": rule,
severity, auditID, stage, user, verb, object; never the event's content). SIGTERM or SIGINT: stops accepting, finishes batches in progress, exits.`;

/** `kube-audit-relay serve`: the local receiver. */
export const serveCommand: Command = {
  name: 'serve',
  summary: 'run the receiver locally, writing JSON lines to stdout or a file',
  usage,
  async run(args, io) {
    const options = Object.fromEntries(
      Object.keys(FLAG_VARIABLES).map((flag) => [flag, { type: 'string', multiple: REPEATABLE.includes(flag as Flag) }]),
    ) as Record<Flag, { type: 'string'; multiple: boolean }>;
    const { values } = parseCommandLine(args, { ...options, detect: { type: 'boolean' } });
    const env: Record<string, string | undefined> = { ...io.env };
    for (const [flag, variable] of Object.entries(FLAG_VARIABLES)) {
      const value = values[flag as Flag] as string | string[] | undefined;
      if (value !== undefined) env[variable] = Array.isArray(value) ? value.join('\n') : value;
    }
    const settings = readServeSettings(env, values.detect === true);

    const log = (entry: Readonly<Record<string, unknown>>): void => {
      io.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`);
    };
    const rules = values.detect ? loadRules() : undefined;
    const matchOutput = settings.detectOutput ? await openMatchOutput(settings.detectOutput, settings, log) : undefined;
    const outputs = await createOutputs(settings.outputs, {
      stdout: io.stdout,
      env,
      sinkTimeoutMs: settings.pipeline.sinkTimeoutMs,
      maxEventBytes: settings.pipeline.maxEventBytes,
      note: (note) => log({ ...note }),
      log,
      // A {cluster} path is a file per cluster, each opened on its cluster's first batch.
      openFile: (path) => (isPerClusterPath(path) ? Promise.resolve(createPerClusterSink(path, (file) => createFileSink(file, { log }))) : openOutputFile(path, log)),
    }, settings.routing ? { routing: settings.routing } : {});
    const sink = rules
      ? withDetections(outputs, rules, (match) => {
          const { time, ...fields } = match;
          log({ level: 'warn', msg: 'detection', eventTime: time, ...fields });
          matchOutput?.offer(match);
        })
      : outputs;
    const metrics = createRelayMetrics({ processMetrics: true, bestEffort: () => [...outputs.bestEffortStats(), ...(matchOutput ? [matchOutput.stats()] : [])] });
    const pipeline = createPipeline({ config: settings.pipeline, sink: metrics.timed(sink), routing: settings.routing });
    for (const warning of settings.warnings) log({ level: 'warn', msg: warning });
    const server = await startServer({
      pipeline,
      host: settings.host,
      port: settings.port,
      maxBodyBytes: settings.pipeline.maxBodyBytes,
      maxInflightBytes: settings.maxInflightBytes,
      requestTimeoutMs: settings.requestTimeoutMs,
      ...(settings.tls ? { tls: settings.tls } : {}),
      log,
      metrics,
      exposeMetrics: settings.metricsPort === undefined,
    }).catch(async (error: unknown) => {
      await Promise.all([sink.close(), matchOutput?.close(0)]);
      throw listenProblem(error, '--port (LISTEN_PORT)', settings.host, settings.port);
    });
    const metricsServer =
      settings.metricsPort === undefined
        ? undefined
        : await startMetricsServer({ registry: metrics.registry, host: settings.host, port: settings.metricsPort, log }).catch(async (error: unknown) => {
            await server.close();
            await Promise.all([sink.close(), matchOutput?.close(0)]);
            throw listenProblem(error, '--metrics-port (METRICS_PORT)', settings.host, settings.metricsPort ?? 0);
          });
    log({
      level: 'info',
      msg: 'listening',
      url: server.url,
      metricsUrl: metricsServer?.url ?? new URL('metrics', server.url).href,
      outputs: settings.outputs.guaranteed.map(describeOutput),
      ...(settings.routing ? { tiers: describeTierOutputs(settings.outputs) } : {}),
      bestEffortOutputs: settings.outputs.bestEffort.map(describeOutput),
      ...(rules ? { detections: rules.length } : {}),
    });

    if (!io.signal.aborted) await once(io.signal, 'abort');
    log({ level: 'info', msg: 'shutting down: finishing batches in progress', reason: String((io.signal.reason as Error | undefined)?.message ?? '') });
    await Promise.all([server.close(), metricsServer?.close()]);
    await Promise.all([sink.close(), matchOutput?.close(settings.pipeline.sinkTimeoutMs)]);
    return 0;
  },
};

interface ServeSettings {
  readonly host: string;
  readonly port: number;
  readonly outputs: OutputsConfig;
  /** --preset, --tiers (TIERS_PRESET, TIERS, TIERS_FILE); undefined: every output stores every event. */
  readonly routing?: TierRouting;
  readonly requestTimeoutMs: number;
  /** Undefined: /metrics is served on `port`. */
  readonly metricsPort?: number;
  /** MAX_INFLIGHT_BYTES: bytes of bodies read or processed at once. */
  readonly maxInflightBytes: number;
  readonly tls?: TlsSettings;
  /** --detect-output (DETECT_OUTPUT): where detection matches also go, best-effort. */
  readonly detectOutput?: OutputSpec;
  readonly pipeline: ReturnType<typeof readPipelineConfig>;
  readonly warnings: readonly string[];
}

const flagOf = Object.fromEntries(Object.entries(FLAG_VARIABLES).map(([flag, variable]) => [variable, flag]));

function readServeSettings(env: Env, detect: boolean): ServeSettings {
  const reader = new SettingsReader(env, (name) => (flagOf[name] ? `--${flagOf[name]} (${name})` : name));
  const host = reader.string('LISTEN_HOST') ?? '127.0.0.1';
  const port = reader.integer('LISTEN_PORT', { default: 3000, min: 0, max: 65_535 });
  // OUTPUT, one destination, is what serve read before OUTPUTS existed.
  const outputs = readOutputsConfig(reader, { defaultOutput: reader.string('OUTPUT') ?? '-' });
  const routing = readTierBindings(reader, outputs);
  const detectOutput = readDetectOutput(reader, detect);
  const requestTimeoutMs = reader.integer('REQUEST_TIMEOUT_MS', { default: 60_000, min: 100, max: 3_600_000 });
  const metricsPort = reader.string('METRICS_PORT') === undefined ? undefined : reader.integer('METRICS_PORT', { default: 0, min: 0, max: 65_535 });
  if (metricsPort !== undefined && metricsPort !== 0 && metricsPort === port) reader.problem('METRICS_PORT', 'must differ from --port (LISTEN_PORT); leave it unset to serve /metrics on --port');
  const maxInflightBytes = reader.integer('MAX_INFLIGHT_BYTES', { default: DEFAULT_MAX_INFLIGHT_BYTES, min: 1024 });
  const cert = reader.file('TLS_CERT_FILE');
  const key = reader.file('TLS_KEY_FILE');
  const clientCa = reader.file('TLS_CLIENT_CA_FILE');
  const hasCert = reader.string('TLS_CERT_FILE') !== undefined;
  if (hasCert !== (reader.string('TLS_KEY_FILE') !== undefined)) {
    reader.problem(hasCert ? 'TLS_KEY_FILE' : 'TLS_CERT_FILE', 'is needed too: https takes both a certificate and its key');
  }
  if (reader.string('TLS_CLIENT_CA_FILE') !== undefined && !hasCert) reader.problem('TLS_CLIENT_CA_FILE', 'needs --tls-cert and --tls-key: client certificates exist only over https');
  if (reader.string('CLIENT_CERT_CLUSTER') !== undefined && reader.string('TLS_CLIENT_CA_FILE') === undefined) {
    reader.problem('CLIENT_CERT_CLUSTER', 'needs --client-ca: only verified client certificates can name a cluster');
  }
  checkTlsMaterial(reader, { ...(cert === undefined ? {} : { cert }), ...(key === undefined ? {} : { key }), ...(clientCa === undefined ? {} : { clientCa }) });
  const pipeline = readPipelineConfig(reader, { authMode: 'none' });
  const perCluster = [...outputs.guaranteed, ...STORED_TIERS.flatMap((tier) => outputs.bound[tier]), ...outputs.bestEffort].flatMap((spec) => (spec.kind === 'file' && isPerClusterPath(spec.path) ? [spec.path] : []));
  if (perCluster.length > 0) checkEveryCallerHasACluster(reader, pipeline, { setting: 'OUTPUTS', clusterSetting: '--cluster (CLUSTER_NAME)' });
  for (const template of perCluster) checkDirectoryWritable(reader, template);
  reader.finish();

  const tls = cert !== undefined && key !== undefined ? { cert, key, ...(clientCa === undefined ? {} : { clientCa }) } : undefined;
  const warnings: string[] = [];
  if (pipeline.auth.mode === 'none' && env.AUTH_MODE !== 'none' && clientCa === undefined && !isLoopback(host)) {
    warnings.push(`no caller authentication and listening on ${host}: anyone who can reach this port can write audit events; set --token-file, --basic-auth-file or --client-ca, or --auth-mode none (AUTH_MODE=none) to silence this`);
  }
  if (pipeline.auth.mode === 'credentials' && tls === undefined) {
    warnings.push('tokens or basic auth are configured without --tls-cert/--tls-key: the API server sends credentials only over https, so its requests will be refused with 401 unless a TLS proxy sits in front');
  }
  return { host, port, outputs, ...(routing ? { routing } : {}), ...(detectOutput ? { detectOutput } : {}), requestTimeoutMs, maxInflightBytes, ...(metricsPort === undefined ? {} : { metricsPort }), ...(tls ? { tls } : {}), pipeline, warnings };
}

/** The files of a per-cluster output are opened on each cluster's first batch: check their directory at start. */
function checkDirectoryWritable(reader: SettingsReader, template: string): void {
  const directory = dirname(template);
  if (isPerClusterPath(directory)) return;
  try {
    accessSync(directory, constants.W_OK);
  } catch (error) {
    reader.problem('OUTPUTS', `the directory ${directory} is not writable (${(error as NodeJS.ErrnoException).code ?? 'error'}): create it, or give another path`);
  }
}

/** --detect-output: a file or an http(s) webhook, and only with --detect. */
function readDetectOutput(reader: SettingsReader, detect: boolean): OutputSpec | undefined {
  const text = reader.string('DETECT_OUTPUT');
  if (text === undefined) return undefined;
  if (!detect) reader.problem('DETECT_OUTPUT', 'needs --detect: only detection matches go there');
  try {
    const spec = parseOutputUri(text);
    if (isMatchOutput(spec)) return spec;
  } catch {
    // Said below, with what is accepted.
  }
  reader.problem('DETECT_OUTPUT', 'must be a path, file:///PATH or an http(s):// webhook URL');
  return undefined;
}

/** The match output; a file that cannot be opened is a configuration error naming the flag. */
async function openMatchOutput(spec: OutputSpec, settings: ServeSettings, log: (entry: Readonly<Record<string, unknown>>) => void): Promise<MatchOutput> {
  try {
    return await createMatchOutput(spec, { timeoutMs: settings.pipeline.sinkTimeoutMs, capacityBytes: settings.outputs.bestEffortQueueBytes, note: (note) => log({ ...note }), log });
  } catch (error) {
    throw new ConfigError([`--detect-output (DETECT_OUTPUT): ${(error as Error).message.replace(/; check .*$/, '')}; check the directory exists and is writable, or give another path`]);
  }
}

/** Each tier's outputs, as the listening line names them. */
function describeTierOutputs(outputs: OutputsConfig): Record<string, string[]> {
  const byTier = outputsByTier(outputs.guaranteed, outputs.bound);
  return Object.fromEntries(STORED_TIERS.map((tier) => [tier, byTier[tier].map(describeOutput)]));
}

const isLoopback = (host: string): boolean => host === 'localhost' || host === '::1' || host.startsWith('127.');

/** A port that cannot be listened on, said in the user's terms; other errors as they are. */
