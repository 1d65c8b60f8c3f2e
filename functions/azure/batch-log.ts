// The one line the function logs per request. The template's alert rules and workbook find these lines in
// FunctionAppLogs.Message by their first characters and read the fields with parse_json, so the shape is a contract:
// change it together with the queries in infra/azure/azuredeploy.json (the template test checks they agree).
import type { BatchCounts } from '../../src/index.ts';

/** The value of `kind`, the first member of every line. */
const BATCH_LOG_KIND = 'kube-audit-relay.batch';

/** How every line begins: what the queries match with `startswith`. */
export const BATCH_LOG_PREFIX = `{"kind":"${BATCH_LOG_KIND}",`;

/** What the function logs about one request; never event content. */
export interface BatchLogLine extends Partial<BatchCounts> {
  /** The HTTP status the function answered: 2xx stored, 4xx refused, 5xx failed (the API server retries both). */
  readonly status: number;
  /** The answer's message, as the caller got it. */
  readonly message: string;
  /** The caller's cluster (named by its credential or client certificate, else CLUSTER_NAME); absent when none is known, e.g. a 401. */
  readonly cluster?: string;
  readonly durationMs: number;
  /** For 5xx: the error's name, e.g. SinkError or ConfigError. */
  readonly error?: string;
  /** For 5xx: the error's message (status, service error code, what to check). */
  readonly cause?: string;
}

/** The line as JSON, `kind` first. */
export const formatBatchLogLine = (line: BatchLogLine): string => JSON.stringify({ kind: BATCH_LOG_KIND, ...line });
