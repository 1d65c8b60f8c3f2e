// A local Azure Monitor Logs Ingestion API over HTTPS (the SDK refuses to send a bearer token over plain HTTP):
// checks the path, api-version, gzip body, bearer token and the 1 MB call limit, answers with the service's status
// codes and error shape, and can throttle (429 + Retry-After) and fail. Tests drive it only through the real SDK.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { seeded } from '../../tools/dev/seeded.ts';
import { LateCall } from '../../tools/dev/late-call.ts';

/** Largest uncompressed body of one call. */
export const MAX_CALL_BYTES = 1_048_576;
/** Longer field values are cut by the service without telling the caller; the stand-in counts them. */
export const MAX_FIELD_BYTES = 65_536;
export const API_VERSIONS = ['2021-11-01-preview', '2023-01-01'] as const;
/** The token audience of the public cloud's ingestion endpoint. */
export const MONITOR_RESOURCE = 'https://monitor.azure.com';

export type Row = Record<string, unknown>;

export interface IngestionCall {
  readonly status: number;
  readonly apiVersion: string | null;
  readonly gzip: boolean;
  /** Uncompressed body bytes. */
  readonly bytes: number;
  readonly rows: number;
}

export interface LogsIngestionStandInOptions {
  /** The data collection rule's immutable id, `dcr-` and 32 hex digits. */
  readonly ruleId: string;
  /** Stream names the rule declares. Default `Custom-KubeAudit`. */
  readonly streams?: readonly string[];
  /** Further rules by immutable id, each with the streams it alone declares (as the template's cold table rule). */
  readonly rules?: Readonly<Record<string, readonly string[]>>;
  /** Whether a bearer token is valid for MONITOR_RESOURCE (e.g. issued by the managed identity stand-in). */
  readonly acceptsToken: (token: string) => boolean;
  /** Seed for the failure-rate generator, so fault tests repeat exactly. */
  readonly seed?: number;
}

export interface LogsIngestionStandIn {
  /** `https://127.0.0.1:<port>`, for LOGS_INGESTION_ENDPOINT. */
  readonly endpoint: string;
  /** PEM of the self-signed certificate, for the client's `tlsOptions.ca`. */
  readonly ca: string;
  /** Every call in arrival order, faulted ones included. */
  readonly calls: readonly IngestionCall[];
  /** Rows stored in a stream, in arrival order. */
  rows(stream?: string): readonly Row[];
  /** Field values the service would have cut silently (over 64 KB): a correct sink never sends one. */
  readonly fieldsOverLimit: number;
  readonly faults: {
    /** Answer the next N calls with 429 and Retry-After. */
    throttleNext(count: number): void;
    /** Answer the next N calls with 503. */
    failNext(count: number): void;
    /** Fail this share of calls (0..1) with 429 or 503, drawn from the seeded generator. */
    failureRate: number;
    /** Seconds in Retry-After on 429 and 503. Default 1. */
    retryAfterSeconds: number;
    /** Delay every call by this many milliseconds before handling it (a client that gives up meanwhile may still see it stored). */
    delayMs: number;
    /** Let the next `answered` calls through, then hold the one after them `ms` before handling it (it is stored late). */
    delayOneAfter(answered: number, ms: number): void;
    /**
     * Answer the next `count` calls with `status` and store nothing, as a proxy or gateway in the path can (a 200 page
     * of its own); the service itself answers 204 when it has taken the rows.
     */
    answerNext(count: number, status: number): void;
  };
  close(): Promise<void>;
}

class ServiceError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** A self-signed certificate for 127.0.0.1 and localhost, made with openssl and deleted once read. */
function selfSignedCertificate(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'logs-ingestion-standin-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function startLogsIngestionStandIn(options: LogsIngestionStandInOptions): Promise<LogsIngestionStandIn> {
  const declared = new Map<string, readonly string[]>([[options.ruleId, options.streams ?? ['Custom-KubeAudit']], ...Object.entries(options.rules ?? {})]);
  const streams = new Map([...declared.values()].flat().map((name) => [name, [] as Row[]]));
  const random = seeded(options.seed ?? 1);
  const calls: IngestionCall[] = [];
  const faults = { throttleLeft: 0, failLeft: 0, failureRate: 0, retryAfterSeconds: 1, delayMs: 0, answerLeft: 0, answerStatus: 200 };
  const late = new LateCall();
  let fieldsOverLimit = 0;
  const { key, cert } = selfSignedCertificate();

  function ingest(request: IncomingMessage, raw: Buffer, record: (call: Partial<IngestionCall>) => void): void {
    const url = new URL(request.url ?? '/', 'https://127.0.0.1');
    const apiVersion = url.searchParams.get('api-version');
    record({ apiVersion });
    const match = /^\/dataCollectionRules\/([^/]+)\/streams\/([^/]+)$/.exec(url.pathname);
    if (request.method !== 'POST' || !match) throw new ServiceError(404, 'NotFound', 'The requested resource was not found.');
    if (!API_VERSIONS.includes(apiVersion as (typeof API_VERSIONS)[number])) {
      throw new ServiceError(400, 'InvalidApiVersion', `The api-version '${apiVersion ?? ''}' is invalid. The supported versions are '${API_VERSIONS.join("','")}'.`);
    }
    const authorization = String(request.headers.authorization ?? '');
    if (!authorization.startsWith('Bearer ') || !options.acceptsToken(authorization.slice(7))) {
      throw new ServiceError(401, 'InvalidToken', 'The provided access token is missing, expired or not valid for this audience.', {
        'www-authenticate': `Bearer authorization_uri="https://login.microsoftonline.com/common", resource_id="${MONITOR_RESOURCE}"`,
      });
    }
    const [, ruleId, stream] = match.map(decodeURIComponent) as [string, string, string];
    if (!declared.has(ruleId)) throw new ServiceError(404, 'NotFound', `Data collection rule with immutable Id '${ruleId}' not found.`);
    const target = declared.get(ruleId)!.includes(stream) ? streams.get(stream) : undefined;
    if (!target) throw new ServiceError(400, 'InvalidStream', `Stream '${stream}' is not declared in data collection rule '${ruleId}'.`);
    const gzip = request.headers['content-encoding'] === 'gzip';
    record({ gzip });
    let body: Buffer;
    try {
      body = gzip ? gunzipSync(raw) : raw;
    } catch {
      throw new ServiceError(400, 'InvalidContentEncoding', 'The request body could not be decompressed with gzip.');
    }
    record({ bytes: body.length });
    if (body.length > MAX_CALL_BYTES) {
      throw new ServiceError(413, 'ContentLengthLimitExceeded', `Maximum allowed content length: ${MAX_CALL_BYTES} bytes (1 MB). Provided content length: ${body.length} bytes.`);
    }
    let rows: unknown;
    try {
      rows = JSON.parse(body.toString('utf8'));
    } catch {
      throw new ServiceError(400, 'InvalidPayload', 'The request body is not valid JSON.');
    }
    if (!Array.isArray(rows) || !rows.every((row) => typeof row === 'object' && row !== null && !Array.isArray(row))) {
      throw new ServiceError(400, 'InvalidPayload', 'The request body must be a JSON array of objects.');
    }
    record({ rows: rows.length });
    injectFault();
    for (const row of rows as Row[]) {
      for (const value of Object.values(row)) {
        const text = typeof value === 'string' ? value : JSON.stringify(value);
        if (Buffer.byteLength(text, 'utf8') > MAX_FIELD_BYTES) fieldsOverLimit++;
      }
      target.push(row);
    }
  }

  function injectFault(): void {
    const retryAfter = { 'retry-after': String(faults.retryAfterSeconds) };
    const throttle = () => new ServiceError(429, 'TooManyRequests', 'Rate limit exceeded for the data collection rule; retry after the delay given.', retryAfter);
    const unavailable = () => new ServiceError(503, 'ServiceUnavailable', 'The service is temporarily unavailable.', retryAfter);
    if (faults.throttleLeft > 0) {
      faults.throttleLeft--;
      throw throttle();
    }
    if (faults.failLeft > 0) {
      faults.failLeft--;
      throw unavailable();
    }
    if (faults.failureRate > 0 && random() < faults.failureRate) throw random() < 0.5 ? throttle() : unavailable();
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const call: { -readonly [K in keyof IngestionCall]: IngestionCall[K] } = { status: 0, apiVersion: null, gzip: false, bytes: 0, rows: 0 };
    calls.push(call);
    const delay = faults.delayMs + late.holdMs();
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    if (faults.answerLeft > 0) {
      faults.answerLeft--;
      call.status = faults.answerStatus;
      response.writeHead(faults.answerStatus, { 'content-type': 'text/html' });
      response.end('<html><body>OK</body></html>');
      return;
    }
    try {
      ingest(request, Buffer.concat(chunks), (seen) => Object.assign(call, seen));
      call.status = 204;
      response.writeHead(204, { 'x-ms-request-id': crypto.randomUUID() });
      response.end();
    } catch (error) {
      if (!(error instanceof ServiceError)) throw error;
      call.status = error.status;
      response.writeHead(error.status, { 'content-type': 'application/json', 'x-ms-request-id': crypto.randomUUID(), ...error.headers });
      response.end(JSON.stringify({ error: { code: error.code, message: error.message } }));
    }
  }

  const server = createServer({ key, cert }, (request, response) => {
    handle(request, response).catch(() => {
      response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: { code: 'InternalServerError', message: 'internal' } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `https://127.0.0.1:${port}`,
    ca: cert,
    calls,
    rows: (stream = 'Custom-KubeAudit') => streams.get(stream) ?? [],
    get fieldsOverLimit() {
      return fieldsOverLimit;
    },
    faults: {
      throttleNext: (count) => void (faults.throttleLeft = count),
      failNext: (count) => void (faults.failLeft = count),
      get failureRate() { return faults.failureRate; },
      set failureRate(rate) { faults.failureRate = rate; },
      get retryAfterSeconds() { return faults.retryAfterSeconds; },
      set retryAfterSeconds(seconds) { faults.retryAfterSeconds = seconds; },
      get delayMs() { return faults.delayMs; },
      set delayMs(ms) { faults.delayMs = ms; },
      delayOneAfter: (answered, ms) => late.arm(answered, ms),
      answerNext(count, status) {
        faults.answerLeft = count;
        faults.answerStatus = status;
      },
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
