// A local audit webhook receiver (as Falco's k8saudit plugin or another relay would be) that can be told to fail or
// to be slow, recording what it got.
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface ReceivedPost {
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: { kind: string; apiVersion: string; items: unknown[] };
}

export interface WebhookReceiver {
  /** e.g. http://127.0.0.1:41234/k8s-audit */
  readonly url: string;
  /** Posts answered 2xx, in order. */
  readonly accepted: ReceivedPost[];
  /** Every post that arrived, answered or not. */
  readonly arrived: ReceivedPost[];
  /** Status to answer; default 200. */
  status: number;
  /** Wait before answering, in ms; default 0. */
  delayMs: number;
  stop(): Promise<void>;
}

export interface ReceiverOptions {
  /** https with this server certificate; with `ca`, clients must present a certificate it signed. */
  readonly tls?: { cert: string; key: string; ca?: string };
  /** When set, answers 401 unless `Authorization: Bearer <token>` is sent. */
  readonly token?: string;
}

export async function startWebhookReceiver(options: ReceiverOptions = {}): Promise<WebhookReceiver> {
  const timers = new Set<NodeJS.Timeout>();
  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const post: ReceivedPost = { path: request.url ?? '', headers: request.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as ReceivedPost['body'] };
      receiver.arrived.push(post);
      const status = options.token !== undefined && request.headers.authorization !== `Bearer ${options.token}` ? 401 : receiver.status;
      const answer = (): void => {
        if (status >= 200 && status <= 206) receiver.accepted.push(post);
        response.writeHead(status, { 'content-type': 'application/json' }).end('{}');
      };
      if (receiver.delayMs === 0) return answer();
      const timer = setTimeout(() => {
        timers.delete(timer);
        answer();
      }, receiver.delayMs);
      timers.add(timer);
    });
  };
  const server: Server = options.tls
    ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key, ...(options.tls.ca ? { ca: options.tls.ca, requestCert: true, rejectUnauthorized: true } : {}) }, handle)
    : createHttpServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const receiver: WebhookReceiver = {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}/k8s-audit`,
    accepted: [],
    arrived: [],
    status: 200,
    delayMs: 0,
    async stop() {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return receiver;
}
