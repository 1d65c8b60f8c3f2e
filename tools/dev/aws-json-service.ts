// The skeleton every local AWS stand-in speaking JSON 1.1 shares (tests and `npm run dev`): X-Amz-Target dispatch, the signature and
// content-type checks the real endpoints make first, and the service's error shape. The stand-ins add the operations.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An error the stand-in answers as the service would: HTTP status, `__type` (without namespace) and message. */
export class ServiceError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

/** One operation: the parsed request body in, the response body out; throws ServiceError to refuse. */
export type JsonOperation = (body: Record<string, unknown>) => unknown;

export interface AwsJsonServiceOptions {
  /** What precedes the operation name in X-Amz-Target, dot included, e.g. `Logs_20140328.`. */
  readonly targetPrefix: string;
  /** What precedes the error type in `__type`: `com.amazonaws.logs#` for CloudWatch Logs, empty for SSM. */
  readonly errorTypeNamespace: string;
  /** `__type` (without namespace) of the 500 answered when the stand-in itself fails. */
  readonly internalErrorType: string;
  readonly operations: Readonly<Record<string, JsonOperation>>;
  /** Runs once a call is counted, before any check, e.g. to delay the answer. */
  readonly beforeChecks?: () => Promise<void> | void;
  /** Runs once a call passed the checks and names a known operation; a ServiceError thrown here is the answer. */
  readonly beforeOperation?: (operation: string) => void;
  /** Loopback port to listen on; default 0, any free one. */
  readonly port?: number;
}

export interface AwsJsonService {
  /** `http://127.0.0.1:<port>`, for the client's `endpoint` option. */
  readonly endpoint: string;
  /** Calls received per operation, refused ones included. */
  readonly calls: Map<string, number>;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1 (a free port unless `options.port` says which) and answers JSON 1.1 calls with `options.operations`. */
export async function startAwsJsonService(options: AwsJsonServiceOptions): Promise<AwsJsonService> {
  const { targetPrefix, errorTypeNamespace, operations } = options;
  const calls = new Map<string, number>();

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const target = String(request.headers['x-amz-target'] ?? '');
    const operation = target.startsWith(targetPrefix) ? target.slice(targetPrefix.length) : '';
    calls.set(operation, (calls.get(operation) ?? 0) + 1);
    await options.beforeChecks?.();
    try {
      if (!String(request.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 ')) {
        throw new ServiceError(400, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
      }
      if (request.headers['content-type'] !== 'application/x-amz-json-1.1') throw new ServiceError(400, 'SerializationException', 'Unexpected content type');
      const run = operations[operation];
      if (!run) throw new ServiceError(400, 'UnknownOperationException', 'Unknown operation');
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      } catch {
        throw new ServiceError(400, 'SerializationException', 'Could not parse the request body as JSON');
      }
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        throw new ServiceError(400, 'SerializationException', 'Expected a JSON object as the request body');
      }
      options.beforeOperation?.(operation);
      reply(response, 200, run(body as Record<string, unknown>));
    } catch (error) {
      if (!(error instanceof ServiceError)) throw error;
      response.setHeader('x-amzn-errortype', `${error.type}:`);
      const __type = `${errorTypeNamespace}${error.type}`;
      // Some errors (SSM's ParameterNotFound) come with no message at all.
      reply(response, error.status, error.message ? { __type, message: error.message } : { __type });
    }
  }

  const server = createServer((request, response) => {
    handle(request, response).catch(() =>
      reply(response, 500, { __type: `${errorTypeNamespace}${options.internalErrorType}`, message: 'internal' }),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function reply(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': crypto.randomUUID() });
  response.end(JSON.stringify(body));
}
