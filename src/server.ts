import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Pipeline, ReceiveResult } from './pipeline.ts';

/** TLS material as PEM text. With `clientCa`, callers must present a certificate it signed (mutual TLS). */
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
  readonly tls?: TlsSettings;
  /** Receives one structured entry per request (health checks that succeed are not logged). */
  readonly log: (entry: Readonly<Record<string, unknown>>) => void;
  /**
   * Time a client may take to send a whole request (headers: at most 20 s of it); slower clients get 408 and are
   * disconnected. Default 60 s: the API server gives up on an attempt after 30 s anyway.
   */
  readonly requestTimeoutMs?: number;
}

export interface RunningServer {
  /** Where the server listens, e.g. `https://127.0.0.1:3000/`. */
  readonly url: string;
  /** Stops accepting connections and resolves once every request in progress has been answered. */
  close(): Promise<void>;
}

/** The local receiver: an HTTP(S) server that hands each request to the pipeline and answers with its status. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { pipeline, maxBodyBytes, log, tls } = options;
  let closing = false;
  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    answer(request, response, pipeline, maxBodyBytes, log, () => closing).catch((error: unknown) => {
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
          ...(tls.clientCa ? { ca: tls.clientCa, requestCert: true, rejectUnauthorized: true } : {}),
        },
        handle,
      )
    : createHttpServer(timeouts, handle);
  // Longer than the API server's idle keep-alive so it, not we, closes idle connections.
  server.keepAliveTimeout = 95_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  return {
    url: `${tls ? 'https' : 'http'}://${host}:${port}/`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        closing = true;
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections();
      }),
  };
}

async function answer(
  request: IncomingMessage,
  response: ServerResponse,
  pipeline: Pipeline,
  maxBodyBytes: number,
  log: ServerOptions['log'],
  closing: () => boolean,
): Promise<void> {
  const path = (request.url ?? '/').split('?')[0] ?? '/';
  const remote = request.socket.remoteAddress;
  const client = (request.socket as Partial<TLSSocket>).getPeerCertificate?.()?.subject?.CN;
  // A client that goes away (the API server's 30 s timeout) cancels the sink's work for this batch.
  const abandoned = new AbortController();
  response.once('close', () => {
    if (!response.writableFinished) abandoned.abort(new Error('the client closed the connection'));
  });

  const body = await readBody(request, maxBodyBytes);
  const result: ReceiveResult | { status: 413; message: string; headers: Record<string, string>; body: string } =
    body === undefined
      ? tooLarge(maxBodyBytes)
      : await pipeline.receive({ method: request.method ?? 'GET', path, headers: flatHeaders(request), body }, abandoned.signal);

  if (!response.destroyed) {
    // After a 413 the rest of the body is unread; once stopping, keep-alive clients must not hold the stop up.
    const close = body === undefined || closing();
    response.writeHead(result.status, { ...result.headers, ...(close ? { connection: 'close' } : {}) });
    response.end(request.method === 'HEAD' ? undefined : result.body);
  }
  if (result.status === 200 && 'counts' in result && result.counts.received === 0 && request.method !== 'POST') return;
  log({
    level: result.status >= 500 ? 'error' : result.status >= 400 ? 'warn' : 'info',
    msg: result.message,
    status: result.status,
    method: request.method,
    path,
    remote,
    ...(client ? { clientCertificate: client } : {}),
    ...('counts' in result ? { ...result.counts, durationMs: Math.round(result.durationMs) } : {}),
    ...('error' in result && result.error ? { error: `${result.error.name}: ${result.error.message}` } : {}),
  });
}

/**
 * The body, or undefined as soon as it is known to exceed the limit (from content-length or while streaming); the
 * rest of an oversized body is not read, and the connection closes after the 413.
 */
function readBody(request: IncomingMessage, maxBodyBytes: number): Promise<Uint8Array | undefined> {
  if (Number(request.headers['content-length']) > maxBodyBytes) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const onData = (chunk: Buffer): void => {
      length += chunk.byteLength;
      if (length > maxBodyBytes) {
        request.off('data', onData);
        request.pause();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    request.on('data', onData);
    request.once('end', () => resolve(Buffer.concat(chunks, length)));
    request.once('error', reject);
  });
}

function tooLarge(maxBodyBytes: number) {
  const message = `body is over the ${maxBodyBytes}-byte limit (--max-body-bytes); lower --audit-webhook-batch-max-size or enable --audit-webhook-truncate-enabled (see kube-audit-relay flags)`;
  return { status: 413 as const, message, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message }) };
}

function flatHeaders(request: IncomingMessage): Record<string, string | undefined> {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}
