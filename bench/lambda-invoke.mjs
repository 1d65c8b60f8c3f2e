// Child process of bench/lambda-bundle.ts: one cold start of a built handler bundle, in a fresh process as Lambda
// would start it. argv: <bundle.mjs> [<EventList body file>]. Prints one JSON line: import time, and when a body is
// given the answer's status and the process's peak RSS after handling it.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const [bundle, bodyFile] = process.argv.slice(2);
const started = performance.now();
const { handler } = await import(pathToFileURL(bundle).href);
const importMs = performance.now() - started;

let status;
if (bodyFile) {
  const body = readFileSync(bodyFile, 'utf8');
  const event = {
    resource: '/',
    path: '/',
    httpMethod: 'POST',
    headers: { 'Content-Type': 'application/json' },
    multiValueHeaders: { 'Content-Type': ['application/json'] },
    queryStringParameters: { timeout: '30s' },
    multiValueQueryStringParameters: { timeout: ['30s'] },
    pathParameters: null,
    stageVariables: null,
    requestContext: { requestId: 'bench', stage: 'prod', httpMethod: 'POST', path: '/prod/', identity: { sourceIp: '10.0.0.10' } },
    body,
    isBase64Encoded: false,
  };
  const deadline = Date.now() + 28_000;
  const context = {
    functionName: 'kube-audit-relay-bench-receive',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:111122223333:function:kube-audit-relay-bench-receive',
    memoryLimitInMB: '512',
    awsRequestId: 'bench',
    logGroupName: '/aws/lambda/kube-audit-relay-bench-receive',
    logStreamName: 'bench',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => deadline - Date.now(),
  };
  status = (await handler(event, context)).statusCode;
}
// maxRSS is in kilobytes. Exit explicitly: the SDK's keep-alive sockets would hold the process open.
process.stderr.write(`${JSON.stringify({ importMs, status, peakRssMb: process.resourceUsage().maxRSS / 1024 })}\n`, () => process.exit(0));
