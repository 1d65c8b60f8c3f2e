import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAccepted } from '../edge.ts';
import { RelayError } from '../errors.ts';

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

/** Sends one body once: resolves with the HTTP status, rejects on a transport error or timeout. */
export type Poster = (body: string, signal: AbortSignal) => Promise<number>;

/**
 * An attempt that retrying cannot fix: the relay refused the credentials, or its certificate is not trusted. The
 * API server would retry it anyway; `replay` stops and says what to change.
 */
export class RetryWouldNotHelp extends RelayError {
  override readonly name = 'RetryWouldNotHelp';
}

/** The relay's answer to one POST: its status and, for the user, the `message` of its JSON body (or its text). */
export interface Answer {
  readonly status: number;
  readonly reason: string;
  /** The body's first REASON_BYTES as text: the relay's JSON message and counts. */
  readonly body: string;
}

/** Node's codes for a server certificate that fails verification. */
const UNTRUSTED_CERTIFICATE = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
]);

/**
 * POSTs one EventList body, retrying every non-2xx answer, timeout and connection error with the API server's
 * backoff, and gives up after the last attempt as the API server does (it then drops the batch).
 */
export function deliver(target: WebhookTarget, body: string, backoff: Backoff, signal: AbortSignal, onRetry?: (failure: string, waitMs: number) => void): Promise<DeliveryOutcome> {
  return deliverWith((text, attemptSignal) => postOnce(target, text, attemptSignal), body, backoff, signal, onRetry);
}

/** One POST; throws RetryWouldNotHelp for a refused credential (401, 403) or an untrusted certificate. */
async function postOnce(target: WebhookTarget, body: string, signal: AbortSignal): Promise<number> {
  let answer: Answer;
  try {
    answer = await post(target, body, signal);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    const detail = `${code}: ${(error as Error).message}`;
    if (UNTRUSTED_CERTIFICATE.has(code)) {
      throw new RetryWouldNotHelp(`the relay's certificate is not trusted (${detail}): give --ca-file with the CA that signed it`, { cause: error });
    }
    if (code === 'CERT_HAS_EXPIRED') throw new RetryWouldNotHelp(`the relay's certificate has expired (${detail}): renew it on the relay`, { cause: error });
    if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
      throw new RetryWouldNotHelp(`the relay's certificate does not name ${target.url.hostname} (${detail}): give --tls-server-name with a name it has, and --ca-file if its CA is not a public one`, { cause: error });
    }
    throw error;
  }
  if (answer.status === 401 || answer.status === 403) {
    const flags = target.authorization === undefined && target.cert === undefined ? 'no credential was sent: give --token-file, --token-env, --basic-auth-file or --client-cert with --client-key' : 'check --token-file, --token-env, --basic-auth-file or --client-cert';
    throw new RetryWouldNotHelp(`the relay refused the credentials with HTTP ${answer.status}${answer.reason ? ` (${answer.reason})` : ''}; ${flags}`);
  }
  return answer.status;
}

/** `deliver` over any way of sending, e.g. straight into a handler in tests. */
export async function deliverWith(send: Poster, body: string, backoff: Backoff, signal: AbortSignal, onRetry?: (failure: string, waitMs: number) => void): Promise<DeliveryOutcome> {
  let wait = backoff.initialMs;
  let lastFailure: string | undefined;
  for (let attempt = 1; attempt <= backoff.attempts; attempt += 1) {
    signal.throwIfAborted();
    try {
      const status = await send(body, signal);
      if (isAccepted(status)) return { delivered: true, attempts: attempt };
      lastFailure = `HTTP ${status}`;
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      if (error instanceof RetryWouldNotHelp) throw error;
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

/** Bytes of an answer's body kept for its reason; the relay's own messages are far shorter. */
const REASON_BYTES = 4096;

/** POSTs one EventList body once, as the API server's webhook client does; rejects on a transport error or timeout. */
export function post(target: WebhookTarget, body: string, signal: AbortSignal): Promise<Answer> {
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
        const chunks: Buffer[] = [];
        let kept = 0;
        response.on('data', (chunk: Buffer) => {
          if (kept < REASON_BYTES) chunks.push(chunk);
          kept += chunk.byteLength;
        });
        response.on('end', () => {
          const text = Buffer.concat(chunks).subarray(0, REASON_BYTES).toString('utf8');
          resolve({ status: response.statusCode ?? 0, reason: reasonOf(text), body: text });
        });
        response.on('error', reject);
      },
    );
    outgoing.on('timeout', () => outgoing.destroy(Object.assign(new Error(`no answer within ${target.timeoutMs} ms`), { code: 'TIMEOUT' })));
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

/** The `message` of a JSON answer (the relay's shape), else the text itself, on one line and at most 300 characters. */
function reasonOf(text: string): string {
  let reason = text;
  try {
    const parsed = JSON.parse(text) as { message?: unknown };
    if (typeof parsed.message === 'string') reason = parsed.message;
  } catch {
    // not JSON: the text as it is
  }
  return reason.replace(/\s+/g, ' ').trim().slice(0, 300);
}
