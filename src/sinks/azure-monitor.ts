import { AsyncLocalStorage } from 'node:async_hooks';
import type { TokenCredential } from '@azure/identity';
import { isAggregateLogsUploadError, LogsIngestionClient, type LogsIngestionClientOptions, type LogsUploadFailure } from '@azure/monitor-ingestion';
import { SinkError, type SinkErrorOptions } from '../errors.ts';
import type { LogRecord } from '../record.ts';
import { type AksAuditRow, toAksAuditRow } from './aks-audit-row.ts';
import { errorName } from './retry.ts';
import type { SendContext, Sink, SinkResult } from './sink.ts';

/**
 * Largest event this sink takes. The client packs rows into calls of under 1,000,000 bytes and a row too large for a
 * call of its own is refused (413); a row repeats the event's fields under column names and adds TimeGenerated and
 * Cluster, so the event keeps ~10 KB of room for them.
 */
export const MAX_EVENT_BYTES = 990_000;

/** Settings of the Azure Monitor Logs sink. */
export interface AzureMonitorSinkOptions {
  /** LOGS_INGESTION_ENDPOINT: the data collection endpoint or rule's logs ingestion URL, `https://...`. */
  readonly endpoint: string;
  /** Managed identity in Azure; needs `Monitoring Metrics Publisher` on the rule. */
  readonly credential: TokenCredential;
  /** LOGS_DCR_IMMUTABLE_ID: the rule's immutable id, `dcr-` and 32 hex digits. */
  readonly ruleId: string;
  /** LOGS_STREAM_NAME: the rule's input stream. */
  readonly streamName: string;
  /** Extra client options (TLS trust, audience for sovereign clouds). The sink turns the SDK's own retries off. */
  readonly clientOptions?: LogsIngestionClientOptions;
  /** Upload calls in flight at once. Default 4. */
  readonly concurrency?: number;
  /** The settings that name the rule and the stream, for error advice. Default LOGS_DCR_IMMUTABLE_ID, LOGS_STREAM_NAME. */
  readonly settings?: { readonly rule: string; readonly stream: string };
}

/** Statuses worth another attempt: throttled, timed out, or the service failed. */
const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504]);
/** A send cancelled by the pipeline's timeout or its caller. */
const ABORTED_NAMES = new Set(['AbortError', 'TimeoutError']);
/** Failures no retry can fix: a cancelled send or a credential that cannot get a token. */
const FATAL_NAMES = new Set([...ABORTED_NAMES, 'CredentialUnavailableError', 'AuthenticationError', 'AuthenticationRequiredError']);

/**
 * Writes each record as one AKSAudit-shaped row to a Log Analytics custom table through the Logs Ingestion API. The
 * client splits and gzips the rows; if any call fails, `send` rejects with a SinkError saying which rows were stored,
 * whether another attempt may help and how long the service asked to wait (Retry-After) for `withRetry`.
 */
export function createAzureMonitorSink(options: AzureMonitorSinkOptions): Sink {
  const { ruleId, streamName } = options;
  const settings = options.settings ?? { rule: 'LOGS_DCR_IMMUTABLE_ID', stream: 'LOGS_STREAM_NAME' };
  const concurrency = options.concurrency ?? 4;
  const client = new LogsIngestionClient(options.endpoint, options.credential, {
    ...options.clientOptions,
    retryOptions: { maxRetries: 0 },
  });
  // Counts the HTTP calls of the `send` whose upload is running, concurrent invocations included.
  const callCounter = new AsyncLocalStorage<{ calls: number }>();
  client.pipeline.addPolicy({
    name: 'kube-audit-relay-call-count',
    sendRequest: (request, next) => {
      const counter = callCounter.getStore();
      if (counter) counter.calls++;
      return next(request);
    },
  });

  async function upload(rows: AksAuditRow[], signal: AbortSignal): Promise<LogsUploadFailure[]> {
    let failures: LogsUploadFailure[] = [];
    try {
      await client.upload(ruleId, streamName, rows, { maxConcurrency: concurrency, abortSignal: signal });
    } catch (error) {
      failures = isAggregateLogsUploadError(error) ? error.errors : [{ cause: error as Error, failedLogs: rows }];
    }
    // Once aborted, the client stops starting calls and reports neither success nor failure for the rows it never
    // sent: count every row as not stored (a retried batch may then store some twice, but loses none).
    if (signal.aborted) return [{ cause: signal.reason as Error, failedLogs: rows }];
    return failures;
  }

  async function send(records: readonly LogRecord[], { signal }: SendContext): Promise<SinkResult> {
    const counter = { calls: 0 };
    const recordOf = new Map<object, LogRecord>();
    let truncated = 0;
    const rows = records.map((record) => {
      const made = toAksAuditRow(record);
      if (made.truncated) truncated++;
      recordOf.set(made.row, record);
      return made.row;
    });

    const failures = await callCounter.run(counter, () => upload(rows, signal));
    if (failures.length === 0) return { written: records.length, duplicates: 0, restamped: 0, calls: counter.calls, truncated };
    // The client reports the very row objects it was given, chunk by chunk.
    const failed = new Set<object>(failures.flatMap((failure) => failure.failedLogs));
    const stored = rows.filter((row) => !failed.has(row)).map((row) => recordOf.get(row)!);
    const causes = failures.map((failure) => failure.cause);
    const fatal = causes.find((cause) => !isRetryable(cause));
    throw failure(failed.size, records.length, fatal ?? causes[0], {
      stored,
      retryable: fatal === undefined,
      retryAfterMs: Math.max(0, ...causes.map(retryAfterMs)),
    });
  }

  function failure(failed: number, total: number, cause: unknown, options: Omit<SinkErrorOptions, 'cause'>): SinkError {
    const status = statusOf(cause);
    const code = (cause as { code?: unknown }).code;
    const what = status === undefined ? errorName(cause) : `HTTP ${status}${typeof code === 'string' ? ` ${code.slice(0, 64)}` : ''}`;
    return new SinkError(
      `azure monitor logs: ${failed} of ${total} rows were not stored in stream ${streamName} of rule ${ruleId} (${what}); ` +
        `the API server will retry the batch; ${advice(status, cause, options.retryable === true, settings)}`,
      'azure-monitor-logs',
      failed,
      { ...options, cause },
    );
  }

  return { name: 'azure-monitor-logs', maxRecordBytes: MAX_EVENT_BYTES, send, close: async () => {} };
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

function isRetryable(error: unknown): boolean {
  if (FATAL_NAMES.has(errorName(error))) return false;
  const status = statusOf(error);
  // No status means no answer came (connection reset, DNS, TLS handshake cut short).
  return status === undefined || RETRYABLE_STATUS.has(status);
}

/** The wait the service asked for: retry-after-ms, x-ms-retry-after-ms, or Retry-After in seconds or as a date. */
function retryAfterMs(error: unknown): number {
  const headers = (error as { response?: { headers?: { get(name: string): string | undefined } } }).response?.headers;
  if (typeof headers?.get !== 'function') return 0;
  for (const name of ['retry-after-ms', 'x-ms-retry-after-ms']) {
    const value = Number(headers.get(name));
    if (headers.get(name) !== undefined && Number.isFinite(value)) return Math.max(0, value);
  }
  const retryAfter = headers.get('retry-after');
  if (retryAfter === undefined) return 0;
  const seconds = Number(retryAfter);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(retryAfter);
  return Number.isNaN(date) ? 0 : Math.max(0, date - Date.now());
}

function advice(status: number | undefined, cause: unknown, transient: boolean, settings: { readonly rule: string; readonly stream: string }): string {
  if (ABORTED_NAMES.has(errorName(cause))) return 'the batch ran out of time (SINK_TIMEOUT_MS) before every row was stored';
  if (transient) return 'the service throttled or failed until the batch ran out of time';
  if (status === 401 || status === 403) return "check that the function's managed identity has Monitoring Metrics Publisher on the data collection rule";
  if (status === 404) return `check LOGS_INGESTION_ENDPOINT and ${settings.rule} name an existing rule`;
  if (status === 400) return `check ${settings.stream} is a stream the rule declares and its columns match the table`;
  if (status === 413) return 'a call was over the 1 MB limit; report this as a bug';
  const name = errorName(cause);
  if (name === 'CredentialUnavailableError' || name === 'AuthenticationError') return 'check the managed identity is enabled on the function app';
  return 'check the function can reach the ingestion endpoint';
}
