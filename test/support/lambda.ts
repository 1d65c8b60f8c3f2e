// Real-shaped Lambda inputs (API Gateway REST proxy events, the Lambda context) and a way to run handler modules
// as separate cold starts and read what Powertools writes to stdout and stderr.
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';

export interface ProxyEventOptions {
  readonly body: string;
  readonly token?: string;
  readonly base64?: boolean;
  readonly method?: string;
  readonly path?: string;
  /** Extra headers as the client sent them (any case). */
  readonly headers?: Record<string, string>;
}

/**
 * An API Gateway REST API proxy event for a request the API server's webhook would send through a private API
 * (`https://{api-id}-{vpce-id}.execute-api.{region}.amazonaws.com/prod/audit?timeout=30s`), header case as Go sends.
 */
export function proxyEvent(options: ProxyEventOptions): APIGatewayProxyEvent {
  const path = options.path ?? '/audit';
  const method = options.method ?? 'POST';
  const body = options.base64 ? Buffer.from(options.body, 'utf8').toString('base64') : options.body;
  const headers: Record<string, string> = {
    Accept: 'application/json, */*',
    'Content-Type': 'application/json',
    'Content-Length': String(Buffer.byteLength(options.body, 'utf8')),
    Host: 'a1b2c3d4e5-vpce-0123456789abcdef0.execute-api.us-east-1.amazonaws.com',
    'User-Agent': 'kube-apiserver/v1.31.2 (linux/amd64) kubernetes/5864a46',
    'X-Amzn-Trace-Id': `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomUUID().replace(/-/g, '').slice(0, 24)}`,
    'x-amzn-vpce-id': 'vpce-0123456789abcdef0',
    'x-amzn-vpc-id': 'vpc-0123456789abcdef0',
    'X-Forwarded-For': '10.0.12.34',
    ...(options.token === undefined ? {} : { Authorization: `Bearer ${options.token}` }),
    ...options.headers,
  };
  const requestTime = new Date();
  return {
    resource: path,
    path,
    httpMethod: method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
    queryStringParameters: { timeout: '30s' },
    multiValueQueryStringParameters: { timeout: ['30s'] },
    pathParameters: null,
    stageVariables: null,
    requestContext: {
      resourceId: 'k3x9pz',
      resourcePath: path,
      httpMethod: method,
      extendedRequestId: 'Xy1ZaGZwIAMFvAg=',
      requestTime: requestTime.toUTCString(),
      path: `/prod${path}`,
      accountId: '123456789012',
      protocol: 'HTTP/1.1',
      stage: 'prod',
      domainPrefix: 'a1b2c3d4e5-vpce-0123456789abcdef0',
      requestTimeEpoch: requestTime.getTime(),
      requestId: randomUUID(),
      identity: {
        cognitoIdentityPoolId: null,
        accountId: null,
        cognitoIdentityId: null,
        caller: null,
        sourceIp: '10.0.12.34',
        principalOrgId: null,
        accessKey: null,
        cognitoAuthenticationType: null,
        cognitoAuthenticationProvider: null,
        userArn: null,
        userAgent: headers['User-Agent'] ?? null,
        user: null,
        apiKey: null,
        apiKeyId: null,
        clientCert: null,
        vpceId: 'vpce-0123456789abcdef0',
        vpcId: 'vpc-0123456789abcdef0',
      } as APIGatewayProxyEvent['requestContext']['identity'],
      domainName: 'a1b2c3d4e5-vpce-0123456789abcdef0.execute-api.us-east-1.amazonaws.com',
      apiId: 'a1b2c3d4e5',
      authorizer: undefined,
    },
    body,
    isBase64Encoded: options.base64 === true,
  };
}

/** The Lambda context of one invocation of a function with the given timeout. */
export function lambdaContext(timeoutMs = 30_000): Context {
  const deadline = Date.now() + timeoutMs;
  const functionName = 'kube-audit-relay-prod-receive';
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `2026/11/22/[$LATEST]${randomUUID().replace(/-/g, '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}


export type ProxyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

let coldStarts = 0;

/**
 * A fresh instance of the handler module, as a new execution environment would load it; the environment is read on
 * its first invocation. Libraries it imports (the SDK, Powertools Parameters' cache) stay shared, as in one process.
 */
export async function coldStart(): Promise<ProxyHandler> {
  const module = (await import(`../../functions/aws/receive.ts?cold-start=${++coldStarts}`)) as { handler: ProxyHandler };
  return module.handler;
}

/** One JSON line Powertools wrote: a log entry or an EMF metrics document. */
export type OutputLine = Record<string, unknown>;

/** The JSON objects of a chunk made only of JSON object lines, as console.log writes Powertools' output; else undefined. */
function jsonLines(chunk: unknown): OutputLine[] | undefined {
  if (typeof chunk !== 'string' || !chunk.startsWith('{')) return undefined;
  try {
    return chunk
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as OutputLine);
  } catch {
    return undefined;
  }
}

/**
 * Runs `work` while keeping the JSON lines written to stdout and stderr (Powertools' logs and EMF metrics) instead
 * of printing them. Every other write passes through untouched: the test runner's child process reports on stdout.
 */
export async function captureOutput<T>(work: () => Promise<T>): Promise<{ value: T; lines: OutputLine[] }> {
  const lines: OutputLine[] = [];
  const streams = [process.stdout, process.stderr];
  const originals = streams.map((stream) => stream.write);
  streams.forEach((stream, index) => {
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      const parsed = jsonLines(chunk);
      if (parsed === undefined) return (originals[index] as (...args: unknown[]) => boolean).call(stream, chunk, ...rest);
      lines.push(...parsed);
      const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
      callback?.();
      return true;
    }) as typeof stream.write;
  });
  try {
    return { value: await work(), lines };
  } finally {
    streams.forEach((stream, index) => {
      stream.write = originals[index]!;
    });
  }
}

/** The EMF documents among captured lines, as metric name -> values in order. */
export function emfMetrics(lines: readonly OutputLine[]): Map<string, number[]> {
  const metrics = new Map<string, number[]>();
  for (const line of lines) {
    const aws = line._aws as { CloudWatchMetrics?: { Metrics: { Name: string }[] }[] } | undefined;
    for (const directive of aws?.CloudWatchMetrics ?? []) {
      for (const { Name } of directive.Metrics) {
        const value = line[Name];
        const values = Array.isArray(value) ? (value as number[]) : [value as number];
        metrics.set(Name, [...(metrics.get(Name) ?? []), ...values]);
      }
    }
  }
  return metrics;
}

/** Sum of one metric's values over the captured EMF documents; 0 when absent. */
export const metricSum = (lines: readonly OutputLine[], name: string): number =>
  (emfMetrics(lines).get(name) ?? []).reduce((sum, value) => sum + value, 0);
