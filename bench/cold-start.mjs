// Child process of bench/bundle.ts: one Lambda cold start of a built handler bundle in a fresh process.
// argv: [<bundle.mjs> [<EventList body file> [<more body files>...]]]. With no bundle it imports an empty module (the
// baseline); with a body file it also invokes the handler once with an API Gateway proxy event carrying it, and once
// more, timed, for each further body file (warm invocations). Prints one JSON line: import time, the first answer's
// status, each warm invocation's milliseconds, and the process's peak resident set.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const [bundle, bodyFile, ...warmFiles] = process.argv.slice(2);
const started = performance.now();
const { handler } = await import(bundle ? pathToFileURL(bundle).href : 'data:text/javascript,export const handler = () => {};');
const importMs = performance.now() - started;
if (typeof handler !== 'function') throw new Error('the bundle exports no handler function');

let status;
const warmMs = [];
/** An API Gateway proxy event carrying the body, and a Lambda context with 28 s left. */
function invocation(file) {
  const event = {
    resource: '/',
    path: '/',
    httpMethod: 'POST',
    headers: { 'Content-Type': 'application/json' },
    multiValueHeaders: { 'Content-Type': ['application/json'] },
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    requestContext: { requestId: 'bench', stage: 'prod', httpMethod: 'POST', path: '/prod/', identity: { sourceIp: '10.0.0.10' } },
    body: readFileSync(file, 'utf8'),
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
  return [event, context];
}
if (bodyFile) {
  status = (await handler(...invocation(bodyFile))).statusCode;
  for (const file of warmFiles) {
    const args = invocation(file);
    const started = performance.now();
    const { statusCode } = await handler(...args);
    warmMs.push(performance.now() - started);
    if (statusCode !== 200) status = statusCode;
  }
}
// maxRSS is in kilobytes. Exit explicitly: the SDK's keep-alive sockets would hold the process open.
const result = { importMs, status, warmMs, peakRssBytes: process.resourceUsage().maxRSS * 1024 };
process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
