import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { ManagedIdentityCredential, type TokenCredential } from '@azure/identity';
import type { LogsIngestionClientOptions } from '@azure/monitor-ingestion';
import { ConfigError, createAzureMonitorSink, createPipeline, type Env, type Pipeline, withDeduplication, withRetry } from '../../src/index.ts';
import { formatBatchLogLine } from './batch-log.ts';
import { readAzureSettings } from './settings.ts';

export interface ReceiveHandlerOptions {
  /** App settings. Default `process.env`, read at the first request. */
  readonly env?: Env;
  /** Default: the app's managed identity (IDENTITY_ENDPOINT / IDENTITY_HEADER, AZURE_CLIENT_ID). */
  readonly credential?: TokenCredential;
  /** Extra LogsIngestionClient options, e.g. TLS trust for a private CA. */
  readonly clientOptions?: LogsIngestionClientOptions;
}

/**
 * The HTTP trigger: HttpRequest in, pipeline, HttpResponseInit out. The pipeline and its sink are built at the first
 * request and kept for the worker's life; settings that cannot work answer 500 naming each variable at fault.
 */
export function createReceiveHandler(options: ReceiveHandlerOptions = {}) {
  let pipeline: Pipeline | undefined;

  function build(): Pipeline {
    const settings = readAzureSettings(options.env ?? process.env);
    const azureMonitor = createAzureMonitorSink({
      endpoint: settings.endpoint,
      credential: options.credential ?? new ManagedIdentityCredential(settings.clientId ? { clientId: settings.clientId } : {}),
      ruleId: settings.ruleId,
      streamName: settings.streamName,
      ...(options.clientOptions ? { clientOptions: options.clientOptions } : {}),
    });
    const sink = withDeduplication(withRetry(azureMonitor));
    return createPipeline({ config: settings.pipeline, sink });
  }

  return async function receiveAuditEvents(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
    try {
      pipeline ??= build();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      context.error(formatBatchLogLine({ status: 500, message: error.message, durationMs: 0, error: error.name }));
      return { status: 500, headers: { 'content-type': 'application/json' }, jsonBody: { message: error.message } };
    }
    const result = await pipeline.receive({
      method: request.method,
      path: new URL(request.url).pathname,
      headers: Object.fromEntries(request.headers),
      body: new Uint8Array(await request.arrayBuffer()),
    });
    const line = { status: result.status, message: result.message, durationMs: Math.round(result.durationMs), ...result.counts };
    if (result.status >= 500) {
      context.error(formatBatchLogLine({ ...line, ...(result.error ? { error: result.error.name, cause: result.error.message } : {}) }));
    } else if (result.status >= 400) context.warn(formatBatchLogLine(line));
    else context.log(formatBatchLogLine(line));
    return { status: result.status, headers: { ...result.headers }, body: result.body };
  };
}
