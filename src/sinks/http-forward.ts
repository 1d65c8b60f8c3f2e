import { post, type WebhookTarget } from '../replay/webhook-sender.ts';
import type { LogRecord } from '../record.ts';
import { failureName } from './retry.ts';
import { type Sink, SinkError, storedAll } from './sink.ts';

/** Settings of the HTTP forward sink: where to POST and how to prove who the relay is. */
export interface HttpForwardOptions {
  /** The receiver's URL, http or https: a Falco k8saudit webhook, another relay, any audit webhook receiver. */
  readonly url: URL;
  /** FORWARD_TOKEN_FILE's token, sent as `Authorization: Bearer` (https only, as the API server does). */
  readonly token?: string;
  /** FORWARD_CA_FILE: PEM certificates to trust instead of the system's. */
  readonly ca?: string;
  /** FORWARD_CLIENT_CERT_FILE and FORWARD_CLIENT_KEY_FILE: a client certificate (PEM) for receivers that ask for one. */
  readonly cert?: string;
  readonly key?: string;
}

/** Statuses another attempt may fix: a timeout, throttling, or the receiver failing. */
const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504]);

/**
 * Forwards each batch as the API server would: one EventList POST (per API version the events came in), success
 * being 200 to 206. Anything else fails the whole batch; a timeout, 408, 429, 5xx or a connection error may be
 * retried, other 4xx need the user to fix the token or URL.
 */
export function createHttpForwardSink(options: HttpForwardOptions): Sink {
  const { url } = options;
  const https = url.protocol === 'https:';
  const where = `${url.protocol}//${url.host}${url.pathname}`;

  async function postList(apiVersion: string, records: readonly LogRecord[], signal: AbortSignal, deadline: number): Promise<void> {
    const body = `{"kind":"EventList","apiVersion":"${apiVersion}","metadata":{},"items":[${records.map((record) => record.json).join(',')}]}`;
    const target: WebhookTarget = {
      url,
      rejectUnauthorized: true,
      timeoutMs: Math.max(1, deadline - Date.now()),
      userAgent: 'kube-audit-relay-forward',
      ...(https && options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(https ? { ca: options.ca, cert: options.cert, key: options.key } : {}),
    };
    let status: number;
    try {
      // The answer's reason is the receiver's text: left out of messages, as the receiver may echo events.
      ({ status } = await post(target, body, signal));
    } catch (error) {
      const code = failureName(error);
      throw new SinkError(`forward to ${where}: ${records.length} events not delivered (${code}); check the receiver is up and reachable`, 'http-forward', records.length, { cause: error, retryable: !signal.aborted });
    }
    if (status >= 200 && status <= 206) return;
    const advice = status === 401 || status === 403 ? 'check FORWARD_TOKEN_FILE or the client certificate' : status === 404 ? 'check the URL path' : 'the receiver refused or failed';
    throw new SinkError(`forward to ${where}: ${records.length} events not delivered (HTTP ${status}); ${advice}`, 'http-forward', records.length, { retryable: RETRYABLE_STATUS.has(status) });
  }

  return {
    name: 'http-forward',
    maxRecordBytes: Number.MAX_SAFE_INTEGER,
    async send(records, { signal, deadline }) {
      const byVersion = new Map<string, LogRecord[]>();
      for (const record of records) {
        const group = byVersion.get(record.apiVersion);
        if (group) group.push(record);
        else byVersion.set(record.apiVersion, [record]);
      }
      const stored: LogRecord[] = [];
      for (const [apiVersion, group] of byVersion) {
        try {
          await postList(apiVersion, group, signal, deadline);
        } catch (error) {
          if (!(error instanceof SinkError)) throw error;
          throw new SinkError(error.message, error.sink, records.length - stored.length, { cause: error.cause, stored, retryable: error.retryable });
        }
        stored.push(...group);
      }
      return storedAll(records.length, byVersion.size);
    },
    close: async () => {},
  };
}
