// What the three entry points (serve, the Lambda, the Function) do alike at their edge, around the pipeline: which
// answers the API server counts as delivered, the level and fields of the one log line per batch, and the JSON
// answers they give themselves. Type imports only, so the replay sender can use it without loading the pipeline.
import type { ReceiveResult } from './pipeline.ts';

/** The API server counts a batch as delivered only for these statuses; anything else it retries. */
export const isAccepted = (status: number): boolean => status >= 200 && status <= 206;

/** Levels of the per-batch log line, as each platform's logger names them. */
export type BatchLogLevel = 'error' | 'warn' | 'info';

/**
 * The level of a batch's log line: error when it was not stored through no fault of the caller's (5xx, the API server
 * retries), warn when it was refused (the caller must change something), info when it was delivered.
 */
export const batchLogLevel = (status: number): BatchLogLevel => (status >= 500 ? 'error' : isAccepted(status) ? 'info' : 'warn');

/** The fields every batch line carries: how long the batch took, in whole milliseconds, and what it came to. */
export const batchTally = (result: Pick<ReceiveResult, 'durationMs' | 'counts'>) => ({ durationMs: Math.round(result.durationMs), ...result.counts });

/** An answer an entry point gives itself, shaped as the pipeline's: a JSON body with the message. */
export type EdgeAnswer = Pick<ReceiveResult, 'status' | 'message' | 'headers' | 'body'>;

/** A refusal (or failure) decided before or outside the pipeline, as `{"message": ...}`. */
export function jsonAnswer(status: number, message: string, headers: Readonly<Record<string, string>> = {}): EdgeAnswer {
  return { status, message, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ message }) };
}

/**
 * The 413 for a body over the limit: the setting that raises it (`--max-body-bytes` or `MAX_BODY_BYTES`) and what to
 * change on the API server's side instead. `bytes` when the body's length is known.
 */
export const bodyTooLargeMessage = (limit: number, setting: string, bytes?: number): string =>
  `body ${bytes === undefined ? 'is' : `of ${bytes} bytes is`} over the ${limit}-byte limit (${setting}); lower --audit-webhook-batch-max-size or enable --audit-webhook-truncate-enabled (see kube-audit-relay flags)`;
