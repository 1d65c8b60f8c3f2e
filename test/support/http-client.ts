// A plain HTTP(S) client for tests, with TLS options as the API server's webhook client would use them.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';

export interface PostOptions {
  readonly method?: string;
  readonly path?: string;
  readonly headers?: Record<string, string>;
  /** PEM text. */
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
}

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

export function send(base: string, body: string | Uint8Array | undefined, options: PostOptions = {}): Promise<HttpAnswer> {
  const url = new URL(options.path ?? '/', base);
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const tls: RequestOptions = { ca: options.ca, cert: options.cert, key: options.key };
  return new Promise((resolve, reject) => {
    const outgoing = request(
      url,
      {
        method: options.method ?? 'POST',
        headers: { 'content-type': 'application/json', ...options.headers },
        agent: false,
        ...(url.protocol === 'https:' ? tls : {}),
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }));
        response.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

/** An EventList body as the API server's webhook sends it. */
export const eventList = (lines: readonly string[], apiVersion = 'audit.k8s.io/v1'): string =>
  `{"kind":"EventList","apiVersion":"${apiVersion}","metadata":{},"items":[${lines.join(',')}]}`;

/** Splits lines into batches of at most `size`. */
export function batches<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += size) result.push(items.slice(start, start + size));
  return result;
}
