import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { listen } from './listen.ts';

/** `GET` or `HEAD /metrics`, query string ignored. */
export const isMetricsRequest = (request: IncomingMessage): boolean =>
  (request.method === 'GET' || request.method === 'HEAD') && (request.url ?? '/').split('?')[0] === '/metrics';

/** Answers a scrape with the registry in the Prometheus text format. */
export function answerMetrics(registry: Registry, request: IncomingMessage, response: ServerResponse, log: (entry: Readonly<Record<string, unknown>>) => void): void {
  registry.metrics().then(
    (text) => {
      response.writeHead(200, { 'content-type': registry.contentType });
      response.end(request.method === 'HEAD' ? undefined : text);
    },
    (error: unknown) => {
      log({ level: 'error', msg: 'cannot render the metrics', error: (error as Error).message });
      response.writeHead(500, { 'content-type': 'text/plain' });
      response.end('cannot render the metrics; see the receiver log\n');
    },
  );
}

export interface MetricsServer {
  /** e.g. `http://0.0.0.0:9090/metrics` */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves `GET /metrics` alone on a port of its own (`--metrics-port`), over plain http and without credentials, so
 * Prometheus can scrape it while the receiver's port requires tokens or client certificates. Anything else is 404.
 */
export async function startMetricsServer(options: {
  readonly registry: Registry;
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly log: (entry: Readonly<Record<string, unknown>>) => void;
}): Promise<MetricsServer> {
  const server = createServer((request, response) => {
    if (isMetricsRequest(request)) return answerMetrics(options.registry, request, response, options.log);
    response.writeHead(404, { 'content-type': 'text/plain' });
    response.end('only GET /metrics is served on this port\n');
  });
  const authority = await listen(server, options.port, options.host);
  return {
    url: `http://${authority}/metrics`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections();
      }),
  };
}
