import { DEFAULT_MAX_BODY_BYTES } from '../config.ts';

/** Where the relay runs; each has its own request size limit. */
export const Platform = {
  Aws: 'aws',
  Azure: 'azure',
  Local: 'local',
} as const;
export type Platform = (typeof Platform)[keyof typeof Platform];

/** The largest request body a platform's front door lets through to the relay, and why. */
export interface ReceiverLimit {
  /** Bytes of the limiting payload (the body, or the event that carries it). */
  readonly limitBytes: number;
  /** Bytes of that payload that are not the body (headers, request context), reserved. */
  readonly reservedBytes: number;
  /** How many payload bytes one body byte can take at worst (2 when the body is carried as a JSON string). */
  readonly expansion: number;
  /** One line per fact, printed as comments. */
  readonly reasons: readonly string[];
}

/** The webhook defaults the flags start from: kubernetes/apiserver pkg/server/options/audit.go. */
export const API_SERVER_DEFAULTS = {
  batchBufferSize: 10_000,
  batchMaxSize: 400,
  batchMaxWait: '30s',
  throttleQps: 10,
  throttleBurst: 15,
  truncateMaxEventSize: 100 * 1024,
  truncateMaxBatchSize: 10 * 1024 * 1024,
  initialBackoff: '10s',
} as const;

const LAMBDA_SYNC_PAYLOAD_BYTES = 6_000_000;
const API_GATEWAY_REST_PAYLOAD_BYTES = 10 * 1024 * 1024;
const AZURE_FUNCTIONS_BODY_BYTES = 100 * 1024 * 1024;

/** Each platform's request limit as the relay's front door enforces it. */
export const RECEIVER_LIMITS: Readonly<Record<Platform, ReceiverLimit>> = {
  aws: {
    limitBytes: Math.min(LAMBDA_SYNC_PAYLOAD_BYTES, API_GATEWAY_REST_PAYLOAD_BYTES),
    reservedBytes: 64 * 1024,
    expansion: 2,
    reasons: [
      'private REST API Gateway accepts 10 MB bodies, but Lambda takes at most 6 MB per synchronous invocation, and',
      'the body travels inside the proxy event as a JSON string: every " and \\ in it doubles (base64 for a binary',
      'media type adds a third instead), so the body may use at most (6 MB - 64 KiB for headers and context) / 2.',
      "API Gateway's 29 s integration timeout, not the API server's 30 s, is each attempt's deadline.",
    ],
  },
  azure: {
    limitBytes: Math.min(AZURE_FUNCTIONS_BODY_BYTES, DEFAULT_MAX_BODY_BYTES),
    reservedBytes: 1024 * 1024,
    expansion: 1,
    reasons: [
      'Azure Functions accepts HTTP bodies up to 100 MB; the relay itself refuses bodies over MAX_BODY_BYTES',
      `(default ${DEFAULT_MAX_BODY_BYTES} bytes), the lower of the two; 1 MiB is kept back as headroom.`,
    ],
  },
  local: {
    limitBytes: DEFAULT_MAX_BODY_BYTES,
    reservedBytes: 1024 * 1024,
    expansion: 1,
    reasons: [`\`kube-audit-relay serve\` refuses bodies over MAX_BODY_BYTES (default ${DEFAULT_MAX_BODY_BYTES} bytes); 1 MiB is kept back as headroom.`],
  },
};

/** What the flags are computed for. */
export interface FlagInputs {
  readonly platform: Platform;
  /** Audit events per second the API server produces under its policy, at peak. */
  readonly eventsPerSecond: number;
  /** --audit-webhook-truncate-max-event-size: larger events lose their bodies, or are dropped if still too large. */
  readonly maxEventBytes: number;
  /**
   * Most memory the API server's webhook buffer may take when full of events at the truncation size (its worst case):
   * --audit-webhook-batch-buffer-size is capped to fit. Default DEFAULT_BUFFER_MEMORY_BYTES.
   */
  readonly bufferMemoryBytes?: number;
  /** Where the webhook kubeconfig and the policy live on the API server's host. */
  readonly kubeconfigFile: string;
  readonly policyFile: string;
}

/** The computed flags and the reasoning behind them. */
export interface FlagPlan {
  readonly flags: readonly (readonly [name: string, value: string])[];
  readonly reasoning: readonly string[];
  /** Bytes of the largest EventList POST these flags allow. */
  readonly largestBatchBytes: number;
  /** Bytes of body the platform accepts after headroom. */
  readonly bodyBudgetBytes: number;
}

/** {"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":[...]}, with room to spare. */
const EVENT_LIST_ENVELOPE_BYTES = 128;
const OUTAGE_SECONDS = 600;
/**
 * 512 MiB: what the API server may hold in its audit buffer at worst. Its default of 10,000 events at the default
 * 100 KiB truncation size would be 977 MiB, on top of everything else in a control-plane process.
 */
export const DEFAULT_BUFFER_MEMORY_BYTES = 512 * 1024 * 1024;
const TYPICAL_EVENT_BYTES = 2 * 1024;

const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/** The largest POST body, in bytes, of `batchMaxSize` events of at most `maxEventBytes` each (plus commas and envelope). */
export const largestBatchBytes = (batchMaxSize: number, maxEventBytes: number): number =>
  EVENT_LIST_ENVELOPE_BYTES + batchMaxSize * (maxEventBytes + 1);

/** The body bytes a platform accepts once its reserve and worst-case expansion are taken off. */
export const bodyBudget = (limit: ReceiverLimit): number => Math.floor((limit.limitBytes - limit.reservedBytes) / limit.expansion);

/** How many events of at most `maxEventBytes` fit in one POST the platform accepts (0: not even one). */
export const eventsThatFit = (platform: Platform, maxEventBytes: number): number =>
  Math.max(0, Math.floor((bodyBudget(RECEIVER_LIMITS[platform]) - EVENT_LIST_ENVELOPE_BYTES) / (maxEventBytes + 1)));

/**
 * Computes the webhook flags: batches that fit the platform's limit even when every event is at the truncation size,
 * truncation on so that bound holds, throttling with twice the throughput the event rate needs, and a buffer that holds
 * ten minutes of events while the relay is unreachable. Throws RangeError when not even one event fits.
 */
export function planWebhookFlags(inputs: FlagInputs): FlagPlan {
  const limit = RECEIVER_LIMITS[inputs.platform];
  const budget = bodyBudget(limit);
  const fits = eventsThatFit(inputs.platform, inputs.maxEventBytes);
  if (fits < 1) throw new RangeError(`--max-event-bytes ${inputs.maxEventBytes} leaves no room for even one event in a ${budget}-byte body on ${inputs.platform}`);
  const batchMaxSize = Math.min(API_SERVER_DEFAULTS.batchMaxSize, fits);
  const batchesPerSecond = inputs.eventsPerSecond / batchMaxSize;
  const qps = Math.max(API_SERVER_DEFAULTS.throttleQps, Math.ceil(2 * batchesPerSecond));
  const burst = Math.max(API_SERVER_DEFAULTS.throttleBurst, Math.ceil(qps * 1.5));
  const outageEvents = Math.ceil(inputs.eventsPerSecond * OUTAGE_SECONDS);
  const wantedBuffer = Math.max(API_SERVER_DEFAULTS.batchBufferSize, outageEvents);
  const bufferMemory = inputs.bufferMemoryBytes ?? DEFAULT_BUFFER_MEMORY_BYTES;
  const bufferCapacity = Math.floor(bufferMemory / inputs.maxEventBytes);
  if (bufferCapacity < batchMaxSize) {
    throw new RangeError(
      `a buffer of one batch (${batchMaxSize} events of ${inputs.maxEventBytes} bytes) needs ${mib(batchMaxSize * inputs.maxEventBytes)}, over the ${mib(bufferMemory)} buffer memory budget`,
    );
  }
  const bufferSize = Math.min(wantedBuffer, bufferCapacity);
  const largest = largestBatchBytes(batchMaxSize, inputs.maxEventBytes);

  const reasoning = [
    `platform ${inputs.platform}:`,
    ...limit.reasons.map((reason) => `  ${reason}`),
    `  body budget: ${budget} bytes.`,
    `batch size: every event is at most ${inputs.maxEventBytes} bytes once truncation is on (larger ones lose request and`,
    `  response bodies, or are dropped), so ${batchMaxSize} events make at most ${largest} bytes (${mib(largest)}) <= ${budget}.`,
    batchMaxSize < fits
      ? `  ${fits} would fit; kept at the API server's default ${API_SERVER_DEFAULTS.batchMaxSize} so each POST is stored well inside the 30 s timeout.`
      : `  ${batchMaxSize + 1} would not fit: a batch over the limit is refused 5 times and then dropped by the API server.`,
    '  truncate-max-batch-size only splits what enters the buffer; the buffer regroups by count, so the bound above is what holds.',
    `throttle: ${inputs.eventsPerSecond} events/s in batches of ${batchMaxSize} is ${batchesPerSecond.toFixed(2)} batches/s; twice that, at least the default`,
    `  ${API_SERVER_DEFAULTS.throttleQps}, is qps ${qps}; burst ${burst} (1.5 x qps, at least the default ${API_SERVER_DEFAULTS.throttleBurst}) catches up after a slow batch.`,
    `buffer: ${OUTAGE_SECONDS / 60} minutes of outage at ${inputs.eventsPerSecond} events/s is ${outageEvents} events (at least the default`,
    `  ${API_SERVER_DEFAULTS.batchBufferSize}); beyond that the API server drops events.`,
    ...(bufferSize < wantedBuffer
      ? [
          `  capped at ${bufferSize} events (${(bufferSize / inputs.eventsPerSecond).toFixed(0)} s of outage) so that, full of events at the truncation size, it stays`,
          `  under the ${mib(bufferMemory)} memory budget; raise it with --buffer-memory-mib if the API server has the memory.`,
        ]
      : []),
    `  Memory when full: ${mib(bufferSize * TYPICAL_EVENT_BYTES)} at ${TYPICAL_EVENT_BYTES / 1024} KiB per typical Metadata event, at worst`,
    `  ${mib(bufferSize * inputs.maxEventBytes)} (every event at the truncation size; budget ${mib(bufferMemory)}, --buffer-memory-mib).`,
    `retries: every non-2xx is retried 5 times, backoff from ${API_SERVER_DEFAULTS.initialBackoff} x1.5; mode batch keeps requests from waiting on the relay.`,
  ];
  const flags: [string, string][] = [
    ['--audit-policy-file', inputs.policyFile],
    ['--audit-webhook-config-file', inputs.kubeconfigFile],
    ['--audit-webhook-mode', 'batch'],
    ['--audit-webhook-batch-max-size', String(batchMaxSize)],
    ['--audit-webhook-batch-max-wait', API_SERVER_DEFAULTS.batchMaxWait],
    ['--audit-webhook-batch-buffer-size', String(bufferSize)],
    ['--audit-webhook-batch-throttle-enable', 'true'],
    ['--audit-webhook-batch-throttle-qps', String(qps)],
    ['--audit-webhook-batch-throttle-burst', String(burst)],
    ['--audit-webhook-truncate-enabled', 'true'],
    ['--audit-webhook-truncate-max-event-size', String(inputs.maxEventBytes)],
    ['--audit-webhook-truncate-max-batch-size', String(Math.max(largest, inputs.maxEventBytes))],
    ['--audit-webhook-initial-backoff', API_SERVER_DEFAULTS.initialBackoff],
  ];
  return { flags, reasoning, largestBatchBytes: largest, bodyBudgetBytes: budget };
}

/** The plan as text: the reasoning as # comments, then one --flag=value per line. */
export function renderFlagPlan(plan: FlagPlan): string {
  return [...plan.reasoning.map((line) => `# ${line}`), ...plan.flags.map(([name, value]) => `${name}=${value}`)].join('\n') + '\n';
}
