import type { X509Certificate } from 'node:crypto';
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { ManagedIdentityCredential, type TokenCredential } from '@azure/identity';
import type { LogsIngestionClientOptions } from '@azure/monitor-ingestion';
import {
  batchLogLevel,
  batchTally,
  type ClientCertificateSubject,
  ConfigError,
  createAzureMonitorSink,
  createOutputs,
  createPipeline,
  type Env,
  jsonAnswer,
  type OutputNote,
  type Pipeline,
  RequestError,
} from '../../src/index.ts';
import { formatBatchLogLine } from './batch-log.ts';
import { CLIENT_CERT_HEADER, verifiedClientCertificate } from './client-certificate.ts';
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
  let receiverReady: Promise<Receiver> | undefined;

  /** The pipeline and its outputs; the note goes to the log of the request that is running when it is written. */
  async function build(log: () => InvocationContext): Promise<Receiver> {
    const env = options.env ?? process.env;
    const settings = readAzureSettings(env);
    const credential = options.credential ?? new ManagedIdentityCredential(settings.clientId ? { clientId: settings.clientId } : {});
    const streamSink = (streamName: string, ruleId: string, names: { rule: string; stream: string }) =>
      createAzureMonitorSink({
        endpoint: settings.endpoint,
        credential,
        ruleId,
        streamName,
        settings: names,
        ...(options.clientOptions ? { clientOptions: options.clientOptions } : {}),
      });
    const context = {
      stdout: process.stdout,
      env,
      sinkTimeoutMs: settings.pipeline.sinkTimeoutMs,
      maxEventBytes: settings.pipeline.maxEventBytes,
      azureCredential: credential,
      note: ({ level, msg, output, events }: OutputNote) => log()[level === 'warn' ? 'warn' : 'log'](JSON.stringify({ msg, output, events })),
    };
    const hot = streamSink(settings.streamName, settings.ruleId, { rule: 'LOGS_DCR_IMMUTABLE_ID', stream: 'LOGS_STREAM_NAME' });
    const coldNames = { rule: settings.coldRuleId ? 'COLD_LOGS_DCR_IMMUTABLE_ID' : 'LOGS_DCR_IMMUTABLE_ID', stream: 'COLD_LOGS_STREAM_NAME' };
    const sinks = { hot, ...(settings.coldStreamName ? { cold: streamSink(settings.coldStreamName, settings.coldRuleId ?? settings.ruleId, coldNames) } : {}) };
    const sink = await createOutputs(settings.outputs, context, { ...(settings.tiers ? { routing: settings.tiers } : {}), sinks });
    return { pipeline: createPipeline({ config: settings.pipeline, sink, routing: settings.tiers }), ...(settings.clientAuthorities ? { clientAuthorities: settings.clientAuthorities } : {}) };
  }

  let current: InvocationContext | undefined;
  return async function receiveAuditEvents(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
    current = context;
    let receiver: Receiver;
    try {
      receiverReady ??= build(() => current ?? context);
      receiver = await receiverReady;
    } catch (error) {
      // A failed build is not kept: the next request tries again.
      receiverReady = undefined;
      if (!(error instanceof ConfigError)) throw error;
      context.error(formatBatchLogLine({ status: 500, message: error.message, durationMs: 0, error: error.name }));
      const { status, headers, body } = jsonAnswer(500, error.message);
      return { status, headers: { ...headers }, body };
    }
    const headers = Object.fromEntries(request.headers);
    let clientCertificate: ClientCertificateSubject | undefined;
    // Health checks need no certificate (the template excludes their path from client certificates).
    if (receiver.clientAuthorities && request.method.toUpperCase() === 'POST') {
      try {
        clientCertificate = verifiedClientCertificate(headers[CLIENT_CERT_HEADER], receiver.clientAuthorities);
      } catch (error) {
        if (!(error instanceof RequestError)) throw error;
        context.warn(formatBatchLogLine({ status: error.status, message: error.message, durationMs: 0 }));
        const { status, headers: answerHeaders, body } = jsonAnswer(error.status, error.message);
        return { status, headers: { ...answerHeaders }, body };
      }
    }
    const result = await receiver.pipeline.receive({
      method: request.method,
      path: new URL(request.url).pathname,
      headers,
      body: new Uint8Array(await request.arrayBuffer()),
      ...(clientCertificate ? { clientCertificate } : {}),
    });
    const line = { status: result.status, message: result.message, ...(result.cluster === undefined ? {} : { cluster: result.cluster }), ...batchTally(result) };
    const level = batchLogLevel(result.status);
    if (level === 'error') {
      context.error(formatBatchLogLine({ ...line, ...(result.error ? { error: result.error.name, cause: result.error.message } : {}) }));
    } else if (level === 'warn') context.warn(formatBatchLogLine(line));
    else context.log(formatBatchLogLine(line));
    return { status: result.status, headers: { ...result.headers }, body: result.body };
  };
}

/** What the handler keeps per worker: the pipeline, and the CAs a forwarded client certificate must come from. */
interface Receiver {
  readonly pipeline: Pipeline;
  readonly clientAuthorities?: readonly X509Certificate[];
}
