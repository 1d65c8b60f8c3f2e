// The AWS entry point: API Gateway (REST, Lambda proxy integration) -> the pipeline -> CloudWatch Logs.
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
// From the modules themselves, not src/index.ts: the index also loads the Azure Monitor client, which the bundle
// would then parse at every cold start (docs/performance.md, "The Lambda bundle").
import { batchLogLevel, batchTally } from '../../src/edge.ts';
import { ConfigError, RequestError } from '../../src/errors.ts';
import { createPipeline, emptyCounts, type Pipeline, type ReceiveRequest } from '../../src/pipeline.ts';
import { createCloudWatchClusterSink } from '../../src/sinks/cloudwatch-per-cluster.ts';
import { createOutputs } from '../../src/sinks/outputs.ts';
import { readLambdaConfig } from './config.ts';
import { addBatchMetrics, createRelayMetrics, withSinkLatency } from './metrics.ts';
import { errorResult, toProxyResult, toReceiveRequest } from './proxy.ts';

/** API Gateway's integration timeout: past it the API server gets a 504 even if the events were stored. */
const API_GATEWAY_TIMEOUT_MS = 29_000;
/** Time kept back from the sink for answering, logging and flushing metrics. */
const RESPONSE_RESERVE_MS = 1_500;

const serviceName = process.env.POWERTOOLS_SERVICE_NAME || 'kube-audit-relay';
const logger = new Logger({ serviceName });
const metrics = createRelayMetrics(process.env);
/** The Cluster dimension of invocations refused before a caller is known (CLUSTER_NAME). */
const configuredCluster = process.env.CLUSTER_NAME?.trim() || undefined;

let pipelineReady: Promise<Pipeline> | undefined;

/**
 * The pipeline of this execution environment, built on first use: configuration, tokens from SSM, the CloudWatch
 * client and the sink, with a stream (and for a templated LOG_GROUP_NAME a group) per cluster. A failed build is not
 * kept, so the next invocation tries again.
 */
function pipeline(): Promise<Pipeline> {
  pipelineReady ??= buildPipeline().catch((error: unknown) => {
    pipelineReady = undefined;
    throw error;
  });
  return pipelineReady;
}

async function buildPipeline(): Promise<Pipeline> {
  const config = await readLambdaConfig(process.env);
  const { sinkTimeoutMs, maxEventBytes } = config.pipeline;
  // The default configuration chain (region, credentials, AWS_ENDPOINT_URL_CLOUDWATCH_LOGS); withRetry does the
  // retrying, within the batch's deadline, so the SDK's own retries are off.
  const client = new CloudWatchLogsClient({ maxAttempts: 1 });
  const groupSink = (logGroupName: string, logGroupClass?: 'INFREQUENT_ACCESS') =>
    createCloudWatchClusterSink({ client, logGroupName, ...(logGroupClass ? { logGroupClass } : {}), streamPrefix: config.logStreamPrefix, maxEventBytes });
  const cold = config.coldLogGroupName ? groupSink(config.coldLogGroupName, 'INFREQUENT_ACCESS') : undefined;
  const sink = await createOutputs(
    config.outputs,
    {
      stdout: process.stdout,
      env: process.env,
      sinkTimeoutMs,
      maxEventBytes,
      note: ({ level, msg, output, events }) => logger[level](msg, { output, events }),
    },
    { ...(config.tiers ? { routing: config.tiers } : {}), sinks: { hot: groupSink(config.logGroupName), ...(cold ? { cold } : {}) } },
  );
  logger.info('pipeline ready', {
    logGroupName: config.logGroupName,
    logStreamPrefix: config.logStreamPrefix,
    auth: config.pipeline.auth.mode,
    maxEventBytes,
    sinkTimeoutMs,
    dropRules: config.pipeline.dropRules.length,
    outputs: sink.name,
    bestEffortOutputs: config.outputs.bestEffort.length,
    ...(config.coldLogGroupName ? { coldLogGroupName: config.coldLogGroupName } : {}),
    tierRules: config.tiers?.rules.length,
  });
  return createPipeline({ config: config.pipeline, sink: withSinkLatency(sink, metrics), routing: config.tiers });
}

async function receiveAuditBatch(event: APIGatewayProxyEvent, context: Context): Promise<APIGatewayProxyResult> {
  let ready: Pipeline;
  try {
    ready = await pipeline();
  } catch (error) {
    addBatchMetrics(metrics, 500, emptyCounts(), configuredCluster);
    if (error instanceof ConfigError) {
      logger.error('configuration is invalid; fix the function environment', { problems: error.problems });
      return errorResult(500, error.message);
    }
    logger.error('cannot start the pipeline', { error: error as Error });
    return errorResult(500, 'internal error while starting; the batch was not stored, see the function log');
  }

  let request: ReceiveRequest;
  try {
    request = toReceiveRequest(event);
  } catch (error) {
    if (!(error instanceof RequestError)) throw error;
    addBatchMetrics(metrics, error.status, emptyCounts(), configuredCluster);
    logger.warn('refused the invocation', { status: error.status, reason: error.message });
    return errorResult(error.status, error.message, error.headers);
  }
  const budget = Math.min(context.getRemainingTimeInMillis(), API_GATEWAY_TIMEOUT_MS) - RESPONSE_RESERVE_MS;
  const result = await ready.receive(request, AbortSignal.timeout(Math.max(1, budget)));

  addBatchMetrics(metrics, result.status, result.counts, result.cluster ?? configuredCluster);
  // `reason`, not `message`: Powertools drops a `message` attribute, as it is the key of the log line's own text.
  const summary = { status: result.status, reason: result.message, ...(result.cluster === undefined ? {} : { cluster: result.cluster }), ...batchTally(result) };
  const level = batchLogLevel(result.status);
  if (level === 'error') logger.error('batch not stored', { ...summary, error: result.error });
  else if (level === 'warn') logger.warn('batch refused', summary);
  else logger.info('batch stored', summary);
  return toProxyResult(result);
}

/** The Lambda handler: `functions/aws/receive.handler`. */
export const handler = middy(receiveAuditBatch)
  // Never log the event: it carries the Authorization header and the audit events themselves.
  .use(injectLambdaContext(logger, { logEvent: false }))
  .use(logMetrics(metrics, { captureColdStartMetric: true }));
