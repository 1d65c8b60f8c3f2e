import { Annotation } from './audit/annotations.ts';
import { decodeBodyInSlices } from './audit/decode.ts';
import { shouldDrop } from './audit/filter.ts';
import { redactEvent } from './audit/redact.ts';
import { renderRecord } from './audit/render.ts';
import { validateEvent } from './audit/validate.ts';
import { createAuthenticator } from './auth.ts';
import { isClusterName } from './cluster-name.ts';
import type { PipelineConfig } from './config.ts';
import { bodyTooLargeMessage } from './edge.ts';
import { RequestError, SinkError } from './errors.ts';
import type { LogRecord } from './record.ts';
import { createSlices } from './slices.ts';
import type { Sink } from './sinks/sink.ts';
import { destinations, type TierRouting } from './tiers/tier-rule.ts';

/** An HTTP request's line and headers, which decide many answers before the body is read. */
export interface RequestHead {
  readonly method: string;
  /** Path without the query string. */
  readonly path: string;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** The verified client certificate's subject (mutual TLS), when the transport has one. */
  readonly clientCertificate?: ClientCertificateSubject;
}

/** The parts of a client certificate's subject that can name a cluster. */
export interface ClientCertificateSubject {
  readonly CN?: string;
  readonly O?: readonly string[];
}

/** One HTTP request as every entry point sees it. */
export interface ReceiveRequest extends RequestHead {
  readonly body: Uint8Array;
}

/** What a batch came to; also the source of every metric. */
export interface BatchCounts {
  /** Events in the body. */
  received: number;
  /** Events the sink stored in this call. */
  written: number;
  /** Events the sink had already stored (a retried batch). */
  duplicates: number;
  /** Events dropped by DROP_RULES or routed to the drop tier. */
  filtered: number;
  /** Events in which redaction replaced something. */
  redacted: number;
  /** Events shrunk to fit MAX_EVENT_BYTES, or by the sink to fit its destination's field limits. */
  truncated: number;
  /** Events a destination first refused for their time and stored on a second attempt. */
  restamped: number;
  /** Events best-effort outputs did not get because they had fallen behind (their queue was full). */
  dropped: number;
  /** Events whose kube-audit-relay.io/cluster named another cluster than the caller's credential: overwritten. */
  spoofed: number;
  /** Canary events (`kube-audit-relay doctor`) in the body; stored like the others, counted apart. */
  canaries: number;
  /** UTF-8 bytes of the records sent to the sink. */
  bytes: number;
  /** Events per API version as received: `audit.k8s.io/v1`, `audit.k8s.io/v1beta1`. */
  apiVersions: Record<string, number>;
}

export interface ReceiveResult {
  readonly status: number;
  /** Short, safe to return and to log: never event content. */
  readonly message: string;
  readonly counts: BatchCounts;
  /** The cluster the events were stamped with: from the credential, the client certificate or CLUSTER_NAME. */
  readonly cluster?: string;
  /** Response headers (lower case), e.g. www-authenticate or allow. */
  readonly headers: Readonly<Record<string, string>>;
  /** The response body: `{"message":..., ...counts}` as JSON. */
  readonly body: string;
  readonly durationMs: number;
  /** For the entry point's log when the status is 5xx; never sent to the caller. */
  readonly error?: Error;
}

export interface PipelineOptions {
  readonly config: PipelineConfig;
  readonly sink: Sink;
  /** The tier routing of the sink's tiered outputs: each event's tiers are found here, from the event already parsed. */
  readonly routing?: TierRouting | undefined;
  /** Milliseconds since the epoch; injectable for tests. */
  readonly now?: () => number;
}

/** A request whose line and headers `answerHead` accepted, with the caller's cluster they named; the body decides the rest. */
export interface AcceptedHead {
  /** Named by the caller's credential, else its client certificate, else CLUSTER_NAME. */
  readonly cluster: string | undefined;
}

/** What the request line and headers decide: the whole answer, or that the body is needed. */
export type HeadDecision = { readonly answer: ReceiveResult; readonly accepted?: never } | { readonly accepted: AcceptedHead; readonly answer?: never };

export interface Pipeline {
  /**
   * The answer that the request line and headers decide alone (a health check's 200, or a 401, 405 or 415 refusal), so
   * that a server can answer without reading the body; else the accepted head to pass to `receiveBody`. Never throws.
   */
  answerHead(request: RequestHead): HeadDecision;
  /**
   * Runs decode -> validate -> filter -> redact -> render -> sink and says what to answer. The work is done in slices
   * with the event loop free between them, however large the batch. Never throws.
   */
  receive(request: ReceiveRequest, signal?: AbortSignal): Promise<ReceiveResult>;
  /** `receive` for a request whose head `answerHead` already accepted: the credentials are not checked again. */
  receiveBody(accepted: AcceptedHead, body: Uint8Array, signal?: AbortSignal): Promise<ReceiveResult>;
}

const HEALTH_PATHS = new Set(['/healthz', '/livez', '/readyz']);

export const emptyCounts = (): BatchCounts => ({
  received: 0,
  written: 0,
  duplicates: 0,
  filtered: 0,
  redacted: 0,
  truncated: 0,
  restamped: 0,
  dropped: 0,
  spoofed: 0,
  canaries: 0,
  bytes: 0,
  apiVersions: {},
});

export function createPipeline(options: PipelineOptions): Pipeline {
  const { config, sink } = options;
  const now = options.now ?? Date.now;
  const authenticator = createAuthenticator(config.auth);
  const maxRecordBytes = Math.min(config.maxEventBytes, sink.maxRecordBytes);

  /**
   * What the request line and headers decide; throws RequestError for every answer but "go on and read the body".
   * Returns the caller's cluster: named by its credential, else by its client certificate, else CLUSTER_NAME.
   */
  function checkHead(request: RequestHead): string | undefined {
    const method = request.method.toUpperCase();
    if (method !== 'POST') {
      if ((method === 'GET' || method === 'HEAD') && HEALTH_PATHS.has(request.path)) {
        throw new RequestError(200, 'ok');
      }
      throw new RequestError(405, `method ${method.slice(0, 16)} not allowed; the audit webhook POSTs events`, { allow: 'POST' });
    }
    const identity = authenticator.check(request.headers.authorization);
    const cluster = identity.cluster ?? certificateCluster(request.clientCertificate, config.clientCertCluster) ?? config.cluster;
    const encoding = request.headers['content-encoding']?.trim().toLowerCase();
    if (encoding && encoding !== 'identity') {
      throw new RequestError(415, `content-encoding ${JSON.stringify(encoding.slice(0, 32))} is not supported; send uncompressed JSON as the API server does`);
    }
    return cluster;
  }

  /** Everything up to the sink, once the head is accepted; throws RequestError for what the caller must fix. */
  async function prepare(body: Uint8Array, counts: BatchCounts, cluster: string | undefined): Promise<LogRecord[]> {
    if (body.byteLength > config.maxBodyBytes) {
      throw new RequestError(413, bodyTooLargeMessage(config.maxBodyBytes, 'MAX_BODY_BYTES', body.byteLength));
    }

    const slices = createSlices();
    const { count, eachItem } = await decodeBodyInSlices(body, slices);
    counts.received = count;
    const receivedAt = now();
    const records: LogRecord[] = [];
    // One item at a time, so only one parsed event is alive; the sink gets nothing until every item has passed, so a
    // 400 leaves nothing written.
    await eachItem((item) => {
      const { event, apiVersion } = validateEvent(item);
      counts.apiVersions[apiVersion] = (counts.apiVersions[apiVersion] ?? 0) + 1;
      if (event.annotations?.[Annotation.Canary] === 'true') counts.canaries++;
      if (shouldDrop(event, config.dropRules)) {
        counts.filtered++;
        return;
      }
      // Routing matches metadata only (verb, user, object, response code), which redaction and truncation keep.
      const tiers = options.routing && destinations(options.routing, event);
      const redacted = redactEvent(event, config.redaction);
      if (redacted.length > 0) counts.redacted++;
      const { record, truncated, spoofed } = renderRecord({ item, event, apiVersion, redacted, cluster, maxRecordBytes, receivedAt, tiers });
      if (truncated) counts.truncated++;
      if (spoofed) counts.spoofed++;
      counts.bytes += record.bytes;
      records.push(record);
    });
    return records;
  }

  const result =
    (started: number, counts: BatchCounts, caller: Caller = {}) =>
    (status: number, text: string, headers: Record<string, string> = {}, error?: Error): ReceiveResult => {
      const message = counts.spoofed > 0 ? `${text}; ${counts.spoofed} claimed another cluster than ${caller.cluster} (kube-audit-relay.io/cluster overwritten)` : text;
      const cluster = caller.cluster === undefined ? {} : { cluster: caller.cluster };
      return {
        status,
        message,
        counts,
        ...cluster,
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ message, ...cluster, ...counts }),
        durationMs: performance.now() - started,
        ...(error ? { error } : {}),
      };
    };

  /** The answer to a head `checkHead` refused. */
  const refusal = (error: unknown, started: number): ReceiveResult => {
    const finish = result(started, emptyCounts());
    if (error instanceof RequestError) return finish(error.status, error.message, { ...error.headers });
    return finish(500, 'internal error while reading the request headers; nothing was stored', {}, error as Error);
  };

  /** The pipeline from the body on, for a caller whose head was accepted. */
  async function store(body: Uint8Array, cluster: string | undefined, started: number, signal: AbortSignal | undefined): Promise<ReceiveResult> {
    const counts = emptyCounts();
    const caller: Caller = cluster === undefined ? {} : { cluster };
    const finish = result(started, counts, caller);

    let records: LogRecord[];
    try {
      records = await prepare(body, counts, cluster);
    } catch (error) {
      if (error instanceof RequestError) return finish(error.status, error.message, { ...error.headers });
      return finish(500, 'internal error while decoding the batch; it was not stored', {}, error as Error);
    }
    if (records.length === 0) return finish(200, `stored 0 of ${counts.received} events (${counts.filtered} filtered)`);

    const deadline = sinkDeadline(signal, config.sinkTimeoutMs, now);
    try {
      const context = { signal: deadline.signal, deadline: deadline.at };
      // A sink that ignores the signal (a stalled stream) must not hold the answer past the timeout.
      const result = await Promise.race([sink.send(records, context), abortion(deadline, sink.name, config.sinkTimeoutMs, records.length)]);
      counts.written = result.written;
      counts.duplicates = result.duplicates;
      counts.restamped = result.restamped;
      counts.truncated += result.truncated ?? 0;
      counts.dropped = result.dropped ?? 0;
      counts.filtered += result.routedToDrop ?? 0;
    } catch (error) {
      // Several guaranteed outputs failing come as one AggregateError whose message names each.
      const why = error instanceof SinkError || error instanceof AggregateError ? error.message : `${sink.name} failed: ${(error as Error).message}`;
      return finish(503, `not stored, the API server will retry the batch: ${why}`, {}, error as Error);
    } finally {
      deadline.dispose();
    }
    const stored = counts.written + counts.duplicates;
    return finish(200, `stored ${stored} of ${counts.received} events${counts.filtered ? ` (${counts.filtered} filtered)` : ''}`);
  }

  return {
    answerHead(request) {
      try {
        return { accepted: { cluster: checkHead(request) } };
      } catch (error) {
        return { answer: refusal(error, performance.now()) };
      }
    },
    async receive(request, signal) {
      const started = performance.now();
      let cluster: string | undefined;
      try {
        cluster = checkHead(request);
      } catch (error) {
        return refusal(error, started);
      }
      return store(request.body, cluster, started, signal);
    },
    receiveBody: (accepted, body, signal) => store(body, accepted.cluster, performance.now(), signal),
  };
}

/** Who sent the batch, as far as the pipeline has found out. */
interface Caller {
  cluster?: string;
}

/** The cluster a verified client certificate names in the configured subject field (CLIENT_CERT_CLUSTER). */
function certificateCluster(subject: ClientCertificateSubject | undefined, field: 'CN' | 'O' | undefined): string | undefined {
  if (field === undefined || subject === undefined) return undefined;
  const name = field === 'CN' ? subject.CN : subject.O?.[0];
  if (name === undefined || !isClusterName(name)) {
    throw new RequestError(401, `the client certificate's subject ${field} does not name a cluster (CLIENT_CERT_CLUSTER=${field}): issue it with ${field}=<cluster name>; nothing was written`);
  }
  return name;
}

interface Deadline {
  readonly signal: AbortSignal;
  /** Milliseconds since the epoch when the timer fires. */
  readonly at: number;
  /** Whether the time ran out (rather than the caller aborting). */
  readonly expired: () => boolean;
  dispose(): void;
}

/**
 * Aborts when `outer` does or after `ms`. A timer and a listener, both cleared by `dispose`: AbortSignal.timeout and
 * AbortSignal.any each hold weak references, which cost GC time on every batch.
 */
function sinkDeadline(outer: AbortSignal | undefined, ms: number, now: () => number): Deadline {
  const controller = new AbortController();
  const at = now() + ms;
  let expired = false;
  const timer = setTimeout(() => {
    expired = true;
    controller.abort(new DOMException(`no answer within ${ms} ms`, 'TimeoutError'));
  }, ms);
  const forward = (): void => controller.abort(outer?.reason);
  if (outer?.aborted) forward();
  else outer?.addEventListener('abort', forward, { once: true });
  return {
    signal: controller.signal,
    at,
    expired: () => expired,
    dispose() {
      clearTimeout(timer);
      outer?.removeEventListener('abort', forward);
    },
  };
}

/** Rejects once the deadline's signal aborts, saying the sink ran out of time when it expired. */
function abortion(deadline: Deadline, sink: string, ms: number, records: number): Promise<never> {
  const { signal } = deadline;
  return new Promise((_, reject) => {
    const fail = (): void => {
      const reason = deadline.expired() ? `${sink} did not finish within SINK_TIMEOUT_MS (${ms} ms)` : `${sink} was interrupted`;
      reject(new SinkError(reason, sink, records, { cause: signal.reason }));
    };
    if (signal.aborted) fail();
    else signal.addEventListener('abort', fail, { once: true });
  });
}
