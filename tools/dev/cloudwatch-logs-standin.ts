// A local CloudWatch Logs speaking the JSON 1.1 protocol the SDK uses, enforcing PutLogEvents' documented limits and
// answering with the service's error shapes, plus fault injection. Tests drive it only through the real SDK; `npm run
// dev` runs it as the Lambda's CloudWatch Logs (tools/dev/aws-offline.ts).
import { ServiceError, startAwsJsonService } from './aws-json-service.ts';
import { LateCall } from './late-call.ts';
import { seeded } from './seeded.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Bytes the service adds to each event's UTF-8 message length when checking limits. */
const EVENT_OVERHEAD_BYTES = 26;
const MAX_BATCH_BYTES = 1_048_576;
const MAX_BATCH_EVENTS = 10_000;

export interface StoredEvent {
  readonly timestamp: number;
  readonly message: string;
  readonly ingestionTime: number;
  readonly eventId: string;
}

export interface StandInOptions {
  /** Largest event, message bytes + 26; 1,048,576 since April 2025, 262,144 before. */
  readonly maxEventBytes?: number;
  /** Seed for the failure-rate generator, so fault tests repeat exactly. */
  readonly seed?: number;
  readonly now?: () => number;
  /** Loopback port to listen on; default 0, any free one. */
  readonly port?: number;
}

const invalid = (message: string) => new ServiceError(400, 'InvalidParameterException', message);
const notFound = (message: string) => new ServiceError(400, 'ResourceNotFoundException', message);

/** Log group classes: Infrequent Access ingests at half the price but has no metric filters or live tail. */
const LOG_GROUP_CLASSES = ['STANDARD', 'INFREQUENT_ACCESS', 'DELIVERY'] as const;
export type LogGroupClass = (typeof LOG_GROUP_CLASSES)[number];

interface Group {
  readonly retentionDays?: number;
  readonly logGroupClass: LogGroupClass;
  readonly streams: Map<string, { creationTime: number; events: StoredEvent[] }>;
}

export interface CloudWatchLogsStandIn {
  /** `http://127.0.0.1:<port>`, for the client's `endpoint` option. */
  readonly endpoint: string;
  /** Calls received per operation, faulted ones included. */
  readonly calls: Map<string, number>;
  /** Calls answered with an injected fault, per operation. */
  readonly faulted: Map<string, number>;
  readonly faults: {
    /** Answer the next N calls (any operation) with ThrottlingException. */
    throttleNext(count: number): void;
    /** Answer the next N calls with ServiceUnavailableException (500). */
    failNext(count: number): void;
    /** Let the next `succeeding` calls through, then answer the `failing` calls after them with 500 (an outage). */
    failAfter(succeeding: number, failing: number): void;
    /** Fail this share of calls (0..1) with 500 or throttling, drawn from the seeded generator. */
    failureRate: number;
    /** Delay every answer by this many milliseconds. */
    delayMs: number;
    /**
     * Answer the next `calls` PutLogEvents with their first `count` events rejected as expired (200 with
     * `expiredLogEventEndIndex`, those events not stored), whatever their timestamps: the service decides by its own
     * clock and the group's retention, so events the caller thinks recent can come back rejected.
     */
    expireFirst(calls: number, count: number): void;
    /** Let the next `answered` calls through, then hold the one after them `ms` before handling it (it is stored late). */
    delayOneAfter(answered: number, ms: number): void;
  };
  /** Creates a group directly, as the infrastructure would; class STANDARD unless given. */
  createLogGroup(name: string, retentionDays?: number, logGroupClass?: LogGroupClass): void;
  /** Events of one stream in stored (timestamp) order. */
  events(group: string, stream: string): readonly StoredEvent[];
  streams(group: string): readonly string[];
  close(): Promise<void>;
}

export async function startCloudWatchLogsStandIn(options: StandInOptions = {}): Promise<CloudWatchLogsStandIn> {
  const maxEventBytes = options.maxEventBytes ?? 1_048_576;
  const now = options.now ?? Date.now;
  const random = seeded(options.seed ?? 1);
  const groups = new Map<string, Group>();
  let nextEventId = 0;
  const faulted = new Map<string, number>();
  const faults = { passLeft: 0, throttleLeft: 0, failLeft: 0, failureRate: 0, delayMs: 0, expireCalls: 0, expireCount: 0 };
  const late = new LateCall();

  const group = (name: unknown): Group => {
    const found = typeof name === 'string' ? groups.get(name) : undefined;
    if (!found) throw notFound('The specified log group does not exist.');
    return found;
  };
  const stream = (body: Record<string, any>) => {
    const found = group(body.logGroupName).streams.get(body.logStreamName);
    if (!found) throw notFound('The specified log stream does not exist.');
    return found;
  };
  const createGroup = (name: string, retentionDays?: number, logGroupClass: LogGroupClass = 'STANDARD') => {
    if (groups.has(name)) throw new ServiceError(400, 'ResourceAlreadyExistsException', 'The specified log group already exists');
    groups.set(name, { retentionDays, logGroupClass, streams: new Map() });
  };

  const operations: Record<string, (body: Record<string, any>) => unknown> = {
    CreateLogGroup(body) {
      if (typeof body.logGroupName !== 'string' || !/^[\w\-_/.#]{1,512}$/.test(body.logGroupName)) {
        throw invalid('1 validation error detected: Value at \'logGroupName\' failed to satisfy constraint');
      }
      const logGroupClass = body.logGroupClass ?? 'STANDARD';
      if (!LOG_GROUP_CLASSES.includes(logGroupClass)) {
        throw invalid(`1 validation error detected: Value '${String(logGroupClass).slice(0, 64)}' at 'logGroupClass' failed to satisfy constraint: Member must satisfy enum value set: [${LOG_GROUP_CLASSES.join(', ')}]`);
      }
      createGroup(body.logGroupName, undefined, logGroupClass);
      return {};
    },
    DescribeLogGroups(body) {
      const prefix = typeof body.logGroupNamePrefix === 'string' ? body.logGroupNamePrefix : '';
      const logGroups = [...groups]
        .filter(([name]) => name.startsWith(prefix))
        .map(([logGroupName, g]) => ({ logGroupName, logGroupClass: g.logGroupClass, ...(g.retentionDays === undefined ? {} : { retentionInDays: g.retentionDays }) }));
      return { logGroups };
    },
    CreateLogStream(body) {
      const target = group(body.logGroupName);
      if (typeof body.logStreamName !== 'string' || !/^[^:*]{1,512}$/.test(body.logStreamName)) {
        throw invalid('1 validation error detected: Value at \'logStreamName\' failed to satisfy constraint');
      }
      if (target.streams.has(body.logStreamName)) {
        throw new ServiceError(400, 'ResourceAlreadyExistsException', 'The specified log stream already exists');
      }
      target.streams.set(body.logStreamName, { creationTime: now(), events: [] });
      return {};
    },
    DescribeLogStreams(body) {
      const target = group(body.logGroupName);
      const prefix = typeof body.logStreamNamePrefix === 'string' ? body.logStreamNamePrefix : '';
      const logStreams = [...target.streams]
        .filter(([name]) => name.startsWith(prefix))
        .map(([logStreamName, s]) => ({
          logStreamName,
          creationTime: s.creationTime,
          storedBytes: 0,
          arn: `arn:aws:logs:us-east-1:123456789012:log-group:${body.logGroupName}:log-stream:${logStreamName}`,
        }));
      return { logStreams };
    },
    PutLogEvents(body) {
      const events: { timestamp: number; message: string }[] = Array.isArray(body.logEvents) ? body.logEvents : [];
      if (events.length < 1 || events.length > MAX_BATCH_EVENTS) {
        throw invalid(`1 validation error detected: Value at 'logEvents' failed to satisfy constraint: Member must have length between 1 and ${MAX_BATCH_EVENTS}`);
      }
      const target = stream(body);
      let total = 0;
      for (const event of events) {
        const size = Buffer.byteLength(event.message ?? '', 'utf8') + EVENT_OVERHEAD_BYTES;
        if (typeof event.message !== 'string' || event.message.length === 0) throw invalid('Log event message must not be empty.');
        if (size > maxEventBytes) throw invalid('Log event too large.');
        total += size;
      }
      if (total > MAX_BATCH_BYTES) throw invalid('Upload too large: the batch of log events exceeds 1048576 bytes.');
      for (let i = 1; i < events.length; i++) {
        if (events[i]!.timestamp < events[i - 1]!.timestamp) {
          throw invalid('Log events in a single PutLogEvents request must be in chronological order.');
        }
      }
      if (events[events.length - 1]!.timestamp - events[0]!.timestamp > DAY) {
        throw invalid('The batch of log events in a single PutLogEvents request cannot span more than 24 hours.');
      }
      // Events are sorted, so the rejected ones form a head (too old, expired) and a tail (too new); the end indexes
      // are exclusive and the start index inclusive, as the API reference describes.
      const at = now();
      const retention = group(body.logGroupName).retentionDays;
      let tooOldEnd = 0;
      let expiredEnd = 0;
      let tooNewStart = events.length;
      events.forEach((event, index) => {
        if (event.timestamp < at - 14 * DAY) tooOldEnd = index + 1;
        if (retention !== undefined && event.timestamp < at - retention * DAY) expiredEnd = index + 1;
        if (event.timestamp > at + 2 * HOUR && tooNewStart === events.length) tooNewStart = index;
      });
      if (faults.expireCalls > 0) {
        faults.expireCalls--;
        expiredEnd = Math.max(expiredEnd, Math.min(faults.expireCount, events.length));
      }
      const firstKept = Math.max(tooOldEnd, expiredEnd);
      for (const event of events.slice(firstKept, tooNewStart)) {
        target.events.push({ timestamp: event.timestamp, message: event.message, ingestionTime: at, eventId: String(nextEventId++) });
      }
      target.events.sort((a, b) => a.timestamp - b.timestamp);
      const rejected = {
        ...(tooOldEnd > 0 ? { tooOldLogEventEndIndex: tooOldEnd } : {}),
        ...(expiredEnd > 0 ? { expiredLogEventEndIndex: expiredEnd } : {}),
        ...(tooNewStart < events.length ? { tooNewLogEventStartIndex: tooNewStart } : {}),
      };
      return Object.keys(rejected).length > 0 ? { rejectedLogEventsInfo: rejected } : {};
    },
    GetLogEvents(body) {
      const all = inRange(stream(body).events, body);
      const limit = Math.min(Number(body.limit ?? MAX_BATCH_EVENTS), MAX_BATCH_EVENTS);
      const start = typeof body.nextToken === 'string' ? Number(body.nextToken.slice(2)) : 0;
      const page = pageOf(all, start, limit);
      const end = start + page.length;
      return {
        events: page.map(({ timestamp, message, ingestionTime }) => ({ timestamp, message, ingestionTime })),
        // At the end the service hands back the token it was given: callers stop when it repeats.
        nextForwardToken: `f/${String(end).padStart(20, '0')}`,
        nextBackwardToken: `b/${String(start).padStart(20, '0')}`,
      };
    },
    FilterLogEvents(body) {
      const target = group(body.logGroupName);
      const names: string[] = Array.isArray(body.logStreamNames) ? body.logStreamNames : [...target.streams.keys()];
      const all = names
        .flatMap((name) => (target.streams.get(name)?.events ?? []).map((event) => ({ ...event, logStreamName: name })))
        .sort((a, b) => a.timestamp - b.timestamp);
      const selected = inRange(all, body);
      const start = typeof body.nextToken === 'string' ? Number(body.nextToken) : 0;
      const page = pageOf(selected, start, Math.min(Number(body.limit ?? MAX_BATCH_EVENTS), MAX_BATCH_EVENTS));
      const end = start + page.length;
      return { events: page, searchedLogStreams: names.map((logStreamName) => ({ logStreamName, searchedCompletely: true })), ...(end < selected.length ? { nextToken: String(end) } : {}) };
    },
  };

  function injectFault(): void {
    if (faults.passLeft > 0) {
      faults.passLeft--;
      return;
    }
    if (faults.throttleLeft > 0) {
      faults.throttleLeft--;
      throw new ServiceError(400, 'ThrottlingException', 'Rate exceeded');
    }
    if (faults.failLeft > 0) {
      faults.failLeft--;
      throw new ServiceError(500, 'ServiceUnavailableException', 'The service cannot complete the request.');
    }
    if (faults.failureRate > 0 && random() < faults.failureRate) {
      if (random() < 0.5) throw new ServiceError(400, 'ThrottlingException', 'Rate exceeded');
      throw new ServiceError(500, 'ServiceUnavailableException', 'The service cannot complete the request.');
    }
  }

  const service = await startAwsJsonService({
    targetPrefix: 'Logs_20140328.',
    errorTypeNamespace: 'com.amazonaws.logs#',
    internalErrorType: 'ServiceUnavailableException',
    operations,
    ...(options.port === undefined ? {} : { port: options.port }),
    beforeChecks() {
      const delay = faults.delayMs + late.holdMs();
      return delay > 0 ? new Promise((resolve) => setTimeout(resolve, delay)) : undefined;
    },
    beforeOperation(operation) {
      try {
        injectFault();
      } catch (fault) {
        faulted.set(operation, (faulted.get(operation) ?? 0) + 1);
        throw fault;
      }
    },
  });

  return {
    endpoint: service.endpoint,
    calls: service.calls,
    faulted,
    faults: {
      throttleNext: (count) => void (faults.throttleLeft = count),
      failNext: (count) => void (faults.failLeft = count),
      failAfter(succeeding, failing) {
        faults.passLeft = succeeding;
        faults.failLeft = failing;
      },
      get failureRate() { return faults.failureRate; },
      set failureRate(rate) { faults.failureRate = rate; },
      get delayMs() { return faults.delayMs; },
      set delayMs(ms) { faults.delayMs = ms; },
      expireFirst(calls, count) {
        faults.expireCalls = calls;
        faults.expireCount = count;
      },
      delayOneAfter: (answered, ms) => late.arm(answered, ms),
    },
    createLogGroup: createGroup,
    events: (groupName, streamName) => groups.get(groupName)?.streams.get(streamName)?.events ?? [],
    streams: (groupName) => [...(groups.get(groupName)?.streams.keys() ?? [])],
    close: service.close,
  };
}

function inRange<T extends { timestamp: number }>(events: readonly T[], body: Record<string, any>): T[] {
  const start = typeof body.startTime === 'number' ? body.startTime : -Infinity;
  const end = typeof body.endTime === 'number' ? body.endTime : Infinity;
  return events.filter((event) => event.timestamp >= start && event.timestamp <= end);
}

/** A page of at most `limit` events and at most 1 MB of messages, as the service caps its answers. */
function pageOf<T extends { message: string }>(events: readonly T[], start: number, limit: number): T[] {
  const page: T[] = [];
  let bytes = 0;
  for (let i = start; i < events.length && page.length < limit; i++) {
    bytes += Buffer.byteLength(events[i]!.message, 'utf8') + EVENT_OVERHEAD_BYTES;
    if (bytes > MAX_BATCH_BYTES && page.length > 0) break;
    page.push(events[i]!);
  }
  return page;
}
