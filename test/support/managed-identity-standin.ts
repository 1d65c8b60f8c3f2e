// A local App Service / Functions managed identity endpoint (the IDENTITY_ENDPOINT + IDENTITY_HEADER protocol,
// api-version 2019-08-01), so @azure/identity's real ManagedIdentityCredential fetches tokens from it.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ManagedIdentityStandIn {
  /** Value for IDENTITY_ENDPOINT. */
  readonly endpoint: string;
  /** Value for IDENTITY_HEADER: requests without it are refused, as the platform does. */
  readonly header: string;
  /** Whether this endpoint issued the token, for the given resource. */
  issued(token: string, resource: string): boolean;
  /** Token requests answered, refused ones included. */
  readonly requests: number;
  close(): Promise<void>;
}

export async function startManagedIdentityStandIn(): Promise<ManagedIdentityStandIn> {
  const header = randomBytes(16).toString('hex');
  const tokens = new Map<string, string>();
  let requests = 0;

  const server = createServer((request, response) => {
    requests++;
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const answer = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    if (request.method !== 'GET' || url.pathname !== '/msi/token') return answer(404, { error: 'not_found' });
    if (request.headers['x-identity-header'] !== header) {
      return answer(401, { error: 'unauthorized', error_description: 'X-IDENTITY-HEADER is missing or wrong' });
    }
    const resource = url.searchParams.get('resource');
    if (url.searchParams.get('api-version') !== '2019-08-01' || !resource) {
      return answer(400, { error: 'invalid_request', error_description: 'api-version 2019-08-01 and resource are required' });
    }
    const token = `mi-standin.${randomBytes(24).toString('base64url')}`;
    tokens.set(token, resource);
    answer(200, {
      access_token: token,
      expires_on: String(Math.floor(Date.now() / 1000) + 3600),
      resource,
      token_type: 'Bearer',
      client_id: '00000000-0000-0000-0000-00000000c11e',
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}/msi/token`,
    header,
    issued: (token, resource) => tokens.get(token) === resource,
    get requests() {
      return requests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
