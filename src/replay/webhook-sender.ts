import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';

/** How the API server's webhook retries (plugin/pkg/audit/webhook: wait.Backoff{Factor 1.5, Jitter 0.2, Steps 5}). */
export interface Backoff {
  /** Wait before the second attempt; --audit-webhook-initial-backoff, default 10 s. */
  readonly initialMs: number;
  readonly factor: number;
  /** Each wait is lengthened by up to this fraction, at random. */
  readonly jitter: number;
  /** Attempts in all, the first included. */
  readonly attempts: number;
}

/** The API server's defaults: 10 s, x1.5, up to 20% jitter, 5 attempts. */
export const API_SERVER_BACKOFF: Backoff = { initialMs: 10_000, factor: 1.5, jitter: 0.2, attempts: 5 };

/** Where and how to POST. */
export interface WebhookTarget {
  readonly url: URL;
  /** Authorization header value, if any. */
  readonly authorization?: string;
  /** TLS settings for https. */
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly servername?: string;
  readonly rejectUnauthorized: boolean;
  /** Per attempt; the API server's webhook client uses 30 s. */
  readonly timeoutMs: number;
  /** Default `kube-audit-relay-replay`. */
  readonly userAgent?: string;
}

/** How one batch ended. */
export interface DeliveryOutcome {
  readonly delivered: boolean;
  readonly attempts: number;
  /** Status or error of the last failed attempt, for the summary. */
  readonly lastFailure?: string;
}

/** Success as the webhook counts it: 200 through 206. */
const isSuccess = (status: number): boolean => status >= 200 && status <= 206;

/** Sends one body once: resolves with the HTTP status, rejects on a transport error or timeout. */
export type Poster = (body: string, signal: AbortSignal) => Promise<number>;

/**
 * POSTs one EventList body, retrying every non-2xx answer, timeout and connection error with the API server's
 * backoff, and gives up after the last attempt as the API server does (it then drops the batch).
 */
export function deliver(target: WebhookTarget, body: string, backoff: Backoff, signal: AbortSignal, onRetry?: (failure: string, waitMs: number) => void): Promise<DeliveryOutcome> {
  return deliverWith((text, attemptSignal) => post(target, text, attemptSignal), body, backoff, signal, onRetry);
}

/** `deliver` over any way of sending, e.g. straight into a handler in tests. */
export async function deliverWith(send: Poster, body: string, backoff: Backoff, signal: AbortSignal, onRetry?: (failure: string, waitMs: number) => void): Promise<DeliveryOutcome> {
  let wait = backoff.initialMs;
  let lastFailure: string | undefined;
  for (let attempt = 1; attempt <= backoff.attempts; attempt += 1) {
    signal.throwIfAborted();
    try {
      const status = await send(body, signal);
      if (isSuccess(status)) return { delivered: true, attempts: attempt };
      lastFailure = `HTTP ${status}`;
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      lastFailure = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    }
    if (attempt < backoff.attempts) {
      const delay = wait * (1 + Math.random() * backoff.jitter);
      onRetry?.(lastFailure, delay);
      await sleep(delay, undefined, { signal });
      wait *= backoff.factor;
    }
  }
  return { delivered: false, attempts: backoff.attempts, ...(lastFailure ? { lastFailure } : {}) };
}

/** POSTs one EventList body once, as the API server's webhook client does; resolves with the HTTP status. */
export function post(target: WebhookTarget, body: string, signal: AbortSignal): Promise<number> {
  const https = target.url.protocol === 'https:';
  const send = https ? httpsRequest : httpRequest;
  // client-go drops the configured query string and sets its own timeout parameter; do the same.
  const url = new URL(target.url);
  url.search = `?timeout=${Math.ceil(target.timeoutMs / 1000)}s`;
  return new Promise((resolve, reject) => {
    const outgoing = send(
      url,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, */*',
          'content-length': Buffer.byteLength(body),
          'user-agent': target.userAgent ?? 'kube-audit-relay-replay',
          ...(target.authorization ? { authorization: target.authorization } : {}),
        },
        signal,
        timeout: target.timeoutMs,
        ...(https
          ? { ca: target.ca, cert: target.cert, key: target.key, servername: target.servername, rejectUnauthorized: target.rejectUnauthorized }
          : {}),
      },
      (response: IncomingMessage) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
        response.on('error', reject);
      },
    );
    outgoing.on('timeout', () => outgoing.destroy(Object.assign(new Error(`no answer within ${target.timeoutMs} ms`), { code: 'TIMEOUT' })));
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}
