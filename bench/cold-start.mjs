// Child process of bench/bundle.ts: one Lambda cold start of a built handler bundle in a fresh process.
// argv: [<bundle.mjs> [<EventList body file> [<more body files>...]]]. With no bundle it imports an empty module (the
// baseline); with a body file it also invokes the handler once with an API Gateway proxy event carrying it, and once
// more, timed, for each further body file (warm invocations). Prints one JSON line: import wall and CPU time, the
// same from the start of the import to the first answer, the first answer's status, each warm invocation's
// milliseconds, and the process's peak resident set.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const [bundle, bodyFile, ...warmFiles] = process.argv.slice(2);
const started = performance.now();
// CPU time as well as wall time: on a loaded machine the wall time mostly measures waiting for a core.
const cpuStarted = process.cpuUsage();
const { handler } = await import(bundle ? pathToFileURL(bundle).href : 'data:text/javascript,export const handler = () => {};');
const importMs = performance.now() - started;
const importCpuMs = cpuMs(process.cpuUsage(cpuStarted));
if (typeof handler !== 'function') throw new Error('the bundle exports no handler function');

let status;
const warmMs = [];
/** BENCH_AUTHORIZATION: the Authorization header of every invocation, for AUTH_MODE=token. */
const authorization = process.env.BENCH_AUTHORIZATION ? { Authorization: process.env.BENCH_AUTHORIZATION } : {};
/** An API Gateway proxy event carrying the body, and a Lambda context with 28 s left. */
function invocation(file) {
  const event = {
    resource: '/',
    path: '/',
    httpMethod: 'POST',
    headers: { 'Content-Type': 'application/json', ...authorization },
    multiValueHeaders: { 'Content-Type': ['application/json'], ...Object.fromEntries(Object.entries(authorization).map(([name, value]) => [name, [value]])) },
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
/** Milliseconds of user and system CPU, every thread of the process. */
function cpuMs({ user, system }) {
  return (user + system) / 1000;
}
let firstMs;
let firstCpuMs;
if (bodyFile) {
  status = (await handler(...invocation(bodyFile))).statusCode;
  // Import and first invocation together: what init work moved into the first request costs it.
  firstMs = performance.now() - started;
  firstCpuMs = cpuMs(process.cpuUsage(cpuStarted));
  for (const file of warmFiles) {
    const args = invocation(file);
    const started = performance.now();
    const { statusCode } = await handler(...args);
    warmMs.push(performance.now() - started);
    if (statusCode !== 200) status = statusCode;
  }
}
// The peak of this process's own memory (VmHWM), not maxRSS: Linux carries the peak of the memory a process had before
// its exec over into maxRSS, so a child forked from the benchmark reported the benchmark's own resident set.
const peakRssBytes = Number(/^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
// Exit explicitly: the SDK's keep-alive sockets would hold the process open.
const result = { importMs, importCpuMs, firstMs, firstCpuMs, status, warmMs, peakRssBytes };
process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
