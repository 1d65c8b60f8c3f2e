// A local Systems Manager Parameter Store speaking the JSON 1.1 protocol the SDK uses (X-Amz-Target AmazonSSM.*),
// enough for GetParameter as Powertools Parameters calls it. Tests drive it only through the real @aws-sdk/client-ssm.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type ParameterType = 'String' | 'StringList' | 'SecureString';

interface StoredParameter {
  readonly type: ParameterType;
  readonly value: string;
  readonly version: number;
  readonly lastModified: number;
}

export interface SsmStandIn {
  /** `http://127.0.0.1:<port>`, for AWS_ENDPOINT_URL_SSM or the client's `endpoint` option. */
  readonly endpoint: string;
  /** Calls received per operation. */
  readonly calls: Map<string, number>;
  /** Creates or overwrites a parameter, as `aws ssm put-parameter --overwrite` would. */
  putParameter(name: string, value: string, type?: ParameterType): void;
  deleteParameter(name: string): void;
  close(): Promise<void>;
}

class ServiceError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

/** Parameter names: letters, digits, `.-_/`, a path starting with `/`, at most 2048 characters (the documented rules). */
const VALID_NAME = /^(\/?[a-zA-Z0-9_.-]+)(\/[a-zA-Z0-9_.-]+)*$/;

/** What a SecureString looks like without WithDecryption: opaque base64, never the plaintext. */
const ciphertextOf = (value: string): string =>
  Buffer.from(`AQICAHh-stand-in-kms-${Buffer.from(value, 'utf8').toString('hex').split('').reverse().join('')}`).toString('base64');

export async function startSsmStandIn(): Promise<SsmStandIn> {
  const parameters = new Map<string, StoredParameter>();
  const calls = new Map<string, number>();

  const operations: Record<string, (body: Record<string, unknown>) => unknown> = {
    GetParameter(body) {
      const name = body.Name;
      if (typeof name !== 'string' || name.length === 0 || name.length > 2048 || !VALID_NAME.test(name)) {
        throw new ServiceError(400, 'ValidationException', `1 validation error detected: Value '${String(name)}' at 'name' failed to satisfy constraint`);
      }
      const found = parameters.get(name);
      // The service answers ParameterNotFound with no message at all.
      if (!found) throw new ServiceError(400, 'ParameterNotFound', '');
      const decrypt = body.WithDecryption === true;
      return {
        Parameter: {
          Name: name,
          Type: found.type,
          Value: found.type === 'SecureString' && !decrypt ? ciphertextOf(found.value) : found.value,
          Version: found.version,
          LastModifiedDate: found.lastModified / 1000,
          ARN: `arn:aws:ssm:us-east-1:123456789012:parameter${name.startsWith('/') ? '' : '/'}${name}`,
          DataType: 'text',
        },
      };
    },
  };

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const target = String(request.headers['x-amz-target'] ?? '');
    const operation = target.startsWith('AmazonSSM.') ? target.slice('AmazonSSM.'.length) : '';
    calls.set(operation, (calls.get(operation) ?? 0) + 1);
    try {
      if (!String(request.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 ')) {
        throw new ServiceError(400, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
      }
      if (request.headers['content-type'] !== 'application/x-amz-json-1.1') throw new ServiceError(400, 'SerializationException', 'Unexpected content type');
      const run = operations[operation];
      if (!run) throw new ServiceError(400, 'UnknownOperationException', 'Unknown operation');
      reply(response, 200, run(JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>));
    } catch (error) {
      if (!(error instanceof ServiceError)) throw error;
      response.setHeader('x-amzn-errortype', `${error.type}:`);
      reply(response, error.status, error.message ? { __type: error.type, message: error.message } : { __type: error.type });
    }
  }

  const server = createServer((request, response) => {
    handle(request, response).catch(() => reply(response, 500, { __type: 'InternalServerError', message: 'internal' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    putParameter(name, value, type = 'SecureString') {
      const version = (parameters.get(name)?.version ?? 0) + 1;
      parameters.set(name, { type, value, version, lastModified: Date.now() });
    },
    deleteParameter: (name) => void parameters.delete(name),
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
