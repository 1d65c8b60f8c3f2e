import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { MessagePort } from 'node:worker_threads';
import { clientCertificateSubject } from '../client-certificate-subject.ts';
import { batchLogLevel, batchTally, bodyTooLargeMessage, jsonAnswer } from '../edge.ts';
import { InflightBudget } from '../inflight-budget.ts';
import { listen } from '../listen.ts';
import { answerMetrics, isMetricsRequest } from '../metrics-server.ts';
import type { RelayMetrics } from '../prometheus.ts';
import { createRateLimitedLog, type Log } from '../rate-limited-log.ts';
import { emptyCounts, type Pipeline, type ReceiveResult } from '../pipeline.ts';
import { createReadiness, type Readiness } from './readiness.ts';

/** Default --max-inflight-bytes: one batch of the largest body accepted by default (see docs/hostile-testing.md). */
export const DEFAULT_MAX_INFLIGHT_BYTES = 64 * 1024 * 1024;

/**
 * TLS material as PEM text. With `clientCa`, POSTs must come with a certificate it signed (mutual TLS); health checks
 * are answered without one, as the kubelet's probes carry none.
 */
export interface TlsSettings {
  readonly cert: string;
  readonly key: string;
  readonly clientCa?: string;
}

export interface ServerOptions {
  readonly pipeline: Pipeline;
  readonly host: string;
  /** 0 picks a free port; `url` on the result says which. */
  readonly port: number;
  /** Bodies over this are refused with 413 before they are read in full. */
  readonly maxBodyBytes: number;
  /**
   * Bytes of bodies read or processed at once; a batch that would go over waits outside: 503 with Retry-After (413 if
   * it is larger than the whole budget). Default DEFAULT_MAX_INFLIGHT_BYTES.
   */
  readonly maxInflightBytes?: number;
  readonly tls?: TlsSettings;
  /** Receives one structured entry per request (health checks that succeed are not logged). */
  readonly log: Log;
  /**
   * Time a client may take to send a whole request (headers: at most 20 s of it); slower clients get 408 and are
   * disconnected. Default 60 s: the API server gives up on an attempt after 30 s anyway.
   */
  readonly requestTimeoutMs?: number;
  /** Counts every batch answered (health checks excluded). */
  readonly metrics?: RelayMetrics;
  /** Also answer `GET /metrics` with `metrics`; false when a port of their own serves them (`--metrics-port`). */
  readonly exposeMetrics?: boolean;
}

export interface RunningServer {
  /** Where the server listens, e.g. `https://127.0.0.1:3000/`. */
  readonly url: string;
  /** Stops accepting connections and resolves once every request in progress has been answered. */
  close(): Promise<void>;
}

/** The local receiver: an HTTP(S) server that hands each request to the pipeline and answers with its status. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { pipeline, maxBodyBytes, log, tls, metrics } = options;
  let closing = false;
  const context: AnswerContext = {
    pipeline,
    maxBodyBytes,
    budget: new InflightBudget(options.maxInflightBytes ?? DEFAULT_MAX_INFLIGHT_BYTES),
    log,
    tlsLog: createRateLimitedLog(log),
    clientCertificates: tls?.clientCa !== undefined,
    closing: () => closing,
    metrics,
    readiness: createReadiness(),
  };
  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    if (metrics && options.exposeMetrics && isMetricsRequest(request)) {
      answerMetrics(metrics.registry, request, response, log);
      return;
    }
    answer(request, response, context).catch((error: unknown) => {
      // Only reading the request can fail here (the client went away mid-body); nothing was stored.
      log({ level: 'warn', msg: 'request abandoned before its body arrived', error: (error as Error).message, remote: request.socket.remoteAddress });
      response.destroy();
    });
  };
  const requestTimeout = options.requestTimeoutMs ?? 60_000;
  const timeouts = {
    requestTimeout,
    headersTimeout: Math.min(20_000, requestTimeout),
    // How often slow clients are looked for; Node's default of 30 s would let them linger past the timeouts.
    connectionsCheckingInterval: Math.min(1_000, requestTimeout / 2),
  };
  const server: Server = tls
    ? createHttpsServer(
        {
          ...timeouts,
          cert: tls.cert,
          key: tls.key,
          // Asked for, not required at the handshake: probes carry no certificate. POSTs without a valid one get 401.
          ...(tls.clientCa ? { ca: tls.clientCa, requestCert: true, rejectUnauthorized: false } : {}),
        },
        handle,
      )
    : createHttpServer(timeouts, handle);
  server.on('tlsClientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    const reason = error.code ?? error.message;
    context.tlsLog(`handshake ${reason} ${socket.remoteAddress}`, {
      level: 'warn',
      msg: 'TLS handshake failed: check the client trusts the server certificate and speaks https (TLS 1.2 or later)',
      reason: error.message.slice(0, 200),
      remote: socket.remoteAddress,
    });
  });
  // Longer than the API server's idle keep-alive so it, not we, closes idle connections.
  server.keepAliveTimeout = 95_000;

  const authority = await listen(server, options.port, options.host);
  return {
    url: `${tls ? 'https' : 'http'}://${authority}/`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        closing = true;
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections();
      }),
  };
}

interface AnswerContext {
  readonly pipeline: Pipeline;
  readonly maxBodyBytes: number;
  readonly budget: InflightBudget;
  readonly log: Log;
  /** For refusals a client can repeat in a loop: TLS handshakes and client certificates. */
  readonly tlsLog: ReturnType<typeof createRateLimitedLog>;
  /** Whether POSTs need a client certificate signed by --client-ca. */
  readonly clientCertificates: boolean;
  readonly closing: () => boolean;
  readonly metrics: RelayMetrics | undefined;
  /** Turns /readyz to 503 while an output is known broken. */
  readonly readiness: Readiness;
}

type Answer = Pick<ReceiveResult, 'status' | 'message' | 'headers' | 'body'> & Partial<Pick<ReceiveResult, 'counts' | 'cluster' | 'durationMs' | 'error'>>;

async function answer(request: IncomingMessage, response: ServerResponse, context: AnswerContext): Promise<void> {
  const { pipeline, budget } = context;
  const path = (request.url ?? '/').split('?')[0] ?? '/';
  const method = request.method ?? 'GET';
  const remote = request.socket.remoteAddress;
  const socket = request.socket as Partial<TLSSocket>;
  // Read once: Node builds the whole certificate object on every call.
  const peerSubject = socket.getPeerCertificate?.()?.subject;
  const client = peerSubject?.CN;
  // A client that goes away (the API server's 30 s timeout) cancels the sink's work for this batch.
  const abandoned = new AbortController();
  response.once('close', () => {
    if (!response.writableFinished) abandoned.abort(new Error('the client closed the connection'));
  });

  const notReady = path === '/readyz' && (method === 'GET' || method === 'HEAD') ? context.readiness.notReadyBecause() : undefined;
  // Not logged: the failure was logged with its batch, and the kubelet asks every few seconds.
  if (notReady) return send(request, response, jsonAnswer(503, `not ready: ${notReady}`), false, context);

  const clientCertificate = socket.authorized === true && peerSubject ? clientCertificateSubject(peerSubject) : undefined;
  const head = { method, path, headers: flatHeaders(request), ...(clientCertificate ? { clientCertificate } : {}) };
  // Everything the headers decide is answered before the body is read: an unauthenticated client cannot make the
  // server hold its body.
  const { answer: early, accepted } = pipeline.answerHead(head);
  const certificate = early?.status === 200 ? undefined : certificateRefusal(socket, peerSubject !== undefined, context);
  if (certificate) {
    context.tlsLog(`certificate ${certificate.reason} ${remote}`, { level: 'warn', msg: certificate.message, status: 401, method, path, remote, reason: certificate.reason });
    return send(request, response, certificate, true, context);
  }
  if (!accepted) {
    send(request, response, early, method !== 'GET' && method !== 'HEAD', context);
    // Health checks that succeed are not logged.
    if (early.status !== 200) logAnswer(context, early, method, path, remote, client);
    return;
  }

  const declared = request.headers['content-length'] === undefined ? undefined : Number(request.headers['content-length']);
  if (declared !== undefined && declared > budget.max && declared <= context.maxBodyBytes) {
    const refusal = jsonAnswer(413, `body of ${declared} bytes is over the ${budget.max}-byte in-flight budget (--max-inflight-bytes) and can never be taken; raise it, or lower --audit-webhook-batch-max-size`);
    send(request, response, refusal, true, context);
    return logAnswer(context, refusal, method, path, remote, client);
  }
  const reserved = { bytes: 0 };
  try {
    const body = await readBody(request, context.maxBodyBytes, budget, reserved, declared);
    const result: Answer =
      body === 'too large'
        ? tooLarge(context.maxBodyBytes)
        : body === 'busy'
          ? busy(budget)
          : await pipeline.receiveBody(accepted, body, abandoned.signal);
    context.readiness.observe(result.status, result.counts?.written ?? 0, result.error);
    // After a 413 or 503 the rest of the body is unread.
    send(request, response, result, typeof body === 'string', context);
    logAnswer(context, result, method, path, remote, client);
  } finally {
    budget.release(reserved.bytes);
  }
}

/** Writes the answer; once stopping, keep-alive clients must not hold the stop up. */
function send(request: IncomingMessage, response: ServerResponse, result: Answer, bodyUnread: boolean, context: AnswerContext): void {
  if (response.destroyed) return;
  const close = bodyUnread || context.closing();
  response.writeHead(result.status, { ...result.headers, ...(close ? { connection: 'close' } : {}) });
  response.end(request.method === 'HEAD' ? undefined : result.body);
}

function logAnswer(context: AnswerContext, result: Answer, method: string, path: string, remote: string | undefined, client: string | string[] | undefined): void {
  context.metrics?.recordBatch(result.status, result.counts ?? emptyCounts(), result.cluster);
  context.log({
    level: batchLogLevel(result.status),
    msg: result.message,
    status: result.status,
    method,
    path,
    remote,
    ...(client ? { clientCertificate: client } : {}),
    ...(result.cluster !== undefined ? { cluster: result.cluster } : {}),
    ...(result.counts ? batchTally({ counts: result.counts, durationMs: result.durationMs ?? 0 }) : {}),
    ...(result.error ? { error: `${result.error.name}: ${result.error.message}` } : {}),
  });
}

/** With --client-ca, a 401 for a request without a certificate signed by it; health checks never get here. */
function certificateRefusal(socket: Partial<TLSSocket>, presented: boolean, context: AnswerContext): (Answer & { reason: string }) | undefined {
  if (!context.clientCertificates || socket.authorized) return undefined;
  const reason = presented ? String(socket.authorizationError ?? 'certificate not accepted') : 'no client certificate';
  const message = presented
    ? `client certificate not accepted (${reason}): it must be signed by the CA given as --client-ca; nothing was written`
    : 'no client certificate: POSTs need one signed by the CA given as --client-ca (client-certificate in the webhook kubeconfig); nothing was written';
  return { ...jsonAnswer(401, message), reason };
}

/**
 * The body, or why it was not read: 'too large' as soon as it is known to exceed the limit (from content-length or
 * while streaming), 'busy' when it does not fit the in-flight budget beside the batches in progress. Its size is
 * reserved in the budget (the declared length at once, else as it arrives) and left in `reserved` for the caller to
 * release. The rest of a refused body is not read, and the connection closes after the answer.
 */
function readBody(
  request: IncomingMessage,
  maxBodyBytes: number,
  budget: InflightBudget,
  reserved: { bytes: number },
  declared: number | undefined,
): Promise<Uint8Array | 'too large' | 'busy'> {
  if (declared !== undefined && declared > maxBodyBytes) return Promise.resolve('too large');
  if (declared !== undefined) {
    if (!budget.tryReserve(declared)) return Promise.resolve('busy');
    reserved.bytes = declared;
  }
  return new Promise((resolve, reject) => {
    // With the length declared (and reserved in the budget), chunks are copied into the body as they arrive and can be
    // collected at once, rather than all kept until a join copies them: at the join a large batch was there twice.
    // Node's HTTP parser delivers exactly the declared length.
    const body = declared === undefined ? undefined : Buffer.allocUnsafeSlow(declared);
    const chunks: Buffer[] = [];
    let length = 0;
    const stop = (why: 'too large' | 'busy'): void => {
      request.off('data', onData);
      request.pause();
      resolve(why);
    };
    const onData = (chunk: Buffer): void => {
      length += chunk.byteLength;
      if (length > maxBodyBytes) return stop('too large');
      if (length > reserved.bytes) {
        if (!budget.tryReserve(length - reserved.bytes)) return stop('busy');
        reserved.bytes = length;
      }
      if (!body) return void chunks.push(chunk);
      chunk.copy(body, length - chunk.byteLength);
      release(chunk);
    };
    request.on('data', onData);
    request.once('end', () => {
      if (body) return resolve(body.subarray(0, length));
      const joined = Buffer.concat(chunks, length);
      for (const chunk of chunks) release(chunk);
      resolve(joined);
    });
    request.once('error', reject);
  });
}

/** A closed port, made on Node 20's first chunk: what is transferred into it is dropped, and its memory freed. */
let nowhere: MessagePort | undefined;

/**
 * Frees a chunk's memory now that its bytes are copied into the body. Node's HTTP parser gives every chunk of a body
 * memory of its own (64 KB each), otherwise freed only when the garbage collector next runs, and the allocator keeps
 * the pages after: a ~6 MB body's chunks stayed resident through its batch's peak. Detaching the chunk's ArrayBuffer
 * frees it at once: `transfer(0)` where the runtime has it (Node 22, as the image runs), else a
 * transfer into a closed port, which drops the message (Node 20). Only a chunk that is the whole of its memory.
 */
function release(chunk: Buffer): void {
  const memory = chunk.buffer;
  if (chunk.byteOffset !== 0 || memory.byteLength !== chunk.byteLength || !(memory instanceof ArrayBuffer)) return;
  if ('transfer' in memory) (memory as ArrayBuffer & { transfer(length: number): ArrayBuffer }).transfer(0);
  else {
    if (!nowhere) {
      nowhere = new MessageChannel().port1;
      nowhere.close();
    }
    nowhere.postMessage(null, [memory]);
  }
}

const tooLarge = (maxBodyBytes: number): Answer => jsonAnswer(413, bodyTooLargeMessage(maxBodyBytes, '--max-body-bytes'));

/** Batches in progress finish within seconds; the API server's own backoff (10 s and more) usually waits longer. */
const busy = (budget: InflightBudget): Answer =>
  jsonAnswer(503, `busy: ${budget.used} bytes of batches in progress fill the ${budget.max}-byte in-flight budget (--max-inflight-bytes); not stored, the API server will retry`, { 'retry-after': '5' });

function flatHeaders(request: IncomingMessage): Record<string, string | undefined> {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}
