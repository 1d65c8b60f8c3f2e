import {
  type CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  type InputLogEvent,
  PutLogEventsCommand,
  type RejectedLogEventsInfo,
} from '@aws-sdk/client-cloudwatch-logs';
import { SinkError } from '../errors.ts';
import type { LogRecord } from '../record.ts';
import { packCalls, PUT_LOG_EVENTS_LIMITS } from './cloudwatch-pack.ts';
import { errorName } from './retry.ts';
import type { SendContext, Sink, SinkResult } from './sink.ts';

/** Where stream names start unless told otherwise, as EKS names its audit streams. */
export const DEFAULT_STREAM_PREFIX = 'kube-apiserver-audit-';

/** Settings of the CloudWatch Logs sink. */
export interface CloudWatchSinkOptions {
  /**
   * Built by the caller with the SDK's default configuration chain (so AWS_ENDPOINT_URL_* apply) and `maxAttempts: 1`:
   * retrying is `withRetry`'s.
   */
  readonly client: CloudWatchLogsClient;
  readonly logGroupName: string;
  /**
   * Class of the group when the sink has to create it (normally the stack does): STANDARD (default) or
   * INFREQUENT_ACCESS, for a cold tier.
   */
  readonly logGroupClass?: 'STANDARD' | 'INFREQUENT_ACCESS';
  /**
   * Whether to create the group when it does not exist. Default true; false where the stack must have made it (a
   * group per cluster, encrypted and with retention), so a missing group fails the batch instead.
   */
  readonly createLogGroup?: boolean;
  /** Start of this sink's stream name; 32 random hex digits follow. Default `kube-apiserver-audit-` (as EKS). */
  readonly streamPrefix?: string;
  /** Largest event the account accepts, message bytes + 26: 1,048,576 (default), or 262,144 on older accounts. */
  readonly maxEventBytes?: number;
  /** PutLogEvents calls in flight at once. Default 4. */
  readonly concurrency?: number;
  /** Milliseconds since the epoch; injectable for tests. */
  readonly now?: () => number;
  /** Uniform in [0, 1); used for the stream name. */
  readonly random?: () => number;
}

interface Pending {
  readonly record: LogRecord;
  readonly timestamp: number;
  readonly bytes: number;
}

/** Stores each record as one log event in one stream per sink instance, EKS's control-plane audit layout. */
export function createCloudWatchSink(options: CloudWatchSinkOptions): Sink {
  const { client, logGroupName } = options;
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const concurrency = options.concurrency ?? 4;
  const maxEventBytes = options.maxEventBytes ?? 1_048_576;
  const hex = Array.from({ length: 16 }, () => Math.floor(random() * 256).toString(16).padStart(2, '0')).join('');
  const logStreamName = `${options.streamPrefix ?? DEFAULT_STREAM_PREFIX}${hex}`;
  let streamReady: Promise<void> | undefined;

  const ensureStream = (): Promise<void> => {
    streamReady ??= createStream().catch((error: unknown) => {
      streamReady = undefined;
      throw error;
    });
    return streamReady;
  };

  async function createStream(): Promise<void> {
    try {
      await client.send(new CreateLogStreamCommand({ logGroupName, logStreamName }));
    } catch (error) {
      if (errorName(error) === 'ResourceAlreadyExistsException') return;
      if (errorName(error) !== 'ResourceNotFoundException' || options.createLogGroup === false) throw error;
      await client.send(new CreateLogGroupCommand({ logGroupName, ...(options.logGroupClass ? { logGroupClass: options.logGroupClass } : {}) })).catch((groupError: unknown) => {
        if (errorName(groupError) !== 'ResourceAlreadyExistsException') throw groupError;
      });
      await client.send(new CreateLogStreamCommand({ logGroupName, logStreamName }));
    }
  }

  /**
   * Sends the records in as few calls as the limits allow, at most `concurrency` at a time, each once (a stream that
   * vanished is created again). Events the service rejects for their time are sent again stamped with the current time.
   */
  async function send(records: readonly LogRecord[], { signal }: SendContext): Promise<SinkResult> {
    let calls = 0;
    const pending: Pending[] = records.map((record) => ({ record, timestamp: record.timestamp, bytes: record.bytes }));
    const stored: LogRecord[] = [];

    const put = async (events: readonly Pending[]): Promise<Pending[]> => {
      const logEvents: InputLogEvent[] = events.map(({ record, timestamp }) => ({ timestamp, message: record.json }));
      for (let recreated = false; ; recreated = true) {
        signal.throwIfAborted();
        calls++;
        try {
          await untilAborted(ensureStream(), signal);
          const answer = await client.send(new PutLogEventsCommand({ logGroupName, logStreamName, logEvents }), { abortSignal: signal });
          const rejected = rejectedIndexes(answer.rejectedLogEventsInfo, events.length);
          events.forEach((event, index) => {
            if (!rejected.has(index)) stored.push(event.record);
          });
          return events.filter((_, index) => rejected.has(index));
        } catch (error) {
          if (errorName(error) !== 'ResourceNotFoundException' || recreated) throw error;
          streamReady = undefined;
        }
      }
    };

    const first = await runBounded(packCalls(pending), concurrency, put);
    const rejected = first.results.flat();
    // Rejected as too old, too new or expired: store them at the current time; the JSON keeps the event's own times.
    const restamped = rejected.map((event) => ({ ...event, timestamp: now() }));
    const second = await runBounded(packCalls(restamped), concurrency, put);
    const stillRejected = second.results.flat().length;
    const failed = first.failedEvents + second.failedEvents + stillRejected;
    if (failed > 0) {
      const cause = first.errors[0] ?? second.errors[0];
      throw new SinkError(
        `cloudwatch logs: ${failed} of ${pending.length} events were not stored in ${logGroupName}/${logStreamName}` +
          `${cause ? ` (${errorName(cause)})` : ' (rejected twice)'}; the API server will retry the batch, check the group exists and the role may write to it`,
        'cloudwatch-logs',
        failed,
        { cause, stored, retryable: cause !== undefined && !signal.aborted && [...first.errors, ...second.errors].every(isRetryable) },
      );
    }
    return { written: pending.length, duplicates: 0, restamped: restamped.length - stillRejected - second.failedEvents, calls };
  }

  return {
    name: 'cloudwatch-logs',
    maxRecordBytes: maxEventBytes - PUT_LOG_EVENTS_LIMITS.overheadBytes,
    send,
    close: async () => {},
  };
}

/** Indexes the service did not store: [0, tooOld/expired end) exclusive, [tooNew start, n) inclusive. */
function rejectedIndexes(info: RejectedLogEventsInfo | undefined, count: number): Set<number> {
  const indexes = new Set<number>();
  if (!info) return indexes;
  const oldEnd = Math.max(info.tooOldLogEventEndIndex ?? 0, info.expiredLogEventEndIndex ?? 0);
  for (let i = 0; i < Math.min(oldEnd, count); i++) indexes.add(i);
  for (let i = info.tooNewLogEventStartIndex ?? count; i < count; i++) indexes.add(i);
  return indexes;
}

/** Runs `work` on every call with at most `limit` in flight; collects results and failures instead of stopping. */
async function runBounded<T>(calls: readonly Pending[][], limit: number, work: (events: Pending[]) => Promise<T>) {
  const results: T[] = [];
  const errors: unknown[] = [];
  let failedEvents = 0;
  let next = 0;
  const worker = async () => {
    while (next < calls.length) {
      const events = calls[next++]!;
      try {
        results.push(await work(events));
      } catch (error) {
        errors.push(error);
        failedEvents += events.length;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, calls.length) }, worker));
  return { results, errors, failedEvents };
}

function isRetryable(error: unknown): boolean {
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const name = errorName(error);
  if (name === 'AbortError') return false;
  if (name === 'ThrottlingException' || name === 'ServiceUnavailableException') return true;
  // No HTTP status means the request never got an answer (connection reset, timeout).
  return status === undefined || status >= 500;
}

/** Waits for a promise other calls share (the stream's creation), giving up without cancelling it when `signal` aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted();
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
