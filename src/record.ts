import { hash } from 'node:crypto';
import type { AuditApiVersion, AuditEvent } from './audit/types.ts';
import type { Tier } from './tiers/tier-rule.ts';

/**
 * One audit event, rendered and ready for a sink. Produced once per event by the pipeline; sinks never re-render. The
 * pipeline's records read `json`, `utf8` and `event` through getters, which a spread (`{...record}`) does not copy:
 * change a field with {@link recordWith}.
 */
export interface LogRecord {
  readonly auditID: string;
  readonly stage: string;
  /** Milliseconds since the epoch: stageTimestamp, else requestReceivedTimestamp, else the v1beta1 timestamp, else receive time. */
  readonly timestamp: number;
  /**
   * The event's JSON on one line, as the API server's --audit-log-path writes it: the received bytes unchanged unless the
   * relay added annotations (cluster, redaction, truncation), in which case only those change. Where the record holds
   * `utf8`, decoded from it on each read.
   */
  readonly json: string;
  /**
   * The same line as UTF-8 bytes, where the record holds bytes: the received ones (a view of the request's body, not a
   * copy) or those with annotations spliced in. A writer of bytes copies these rather than encoding `json`. Absent where
   * the relay serialised the event again (redaction, truncation, an overwritten cluster).
   */
  readonly utf8?: Uint8Array | undefined;
  /** UTF-8 length of `json`. */
  readonly bytes: number;
  /**
   * The event parsed from `json` on each read (redacted and truncated as `json` is). Records keep no parsed objects:
   * for a whole batch they take several times the body's size.
   */
  readonly event: AuditEvent;
  /** Which API version the event arrived as. */
  readonly apiVersion: AuditApiVersion;
  /** The configured cluster name, if any. */
  readonly cluster?: string;
  /** `recordKey` of this record, computed once when it is rendered: what deduplication and archive names use. */
  readonly key: string;
  /**
   * With a tier routing, the tiers that store this event (none: routed to drop), found by the pipeline while the
   * event was parsed anyway; undefined without a routing.
   */
  readonly tiers?: readonly Tier[] | undefined;
}

/**
 * The key under which a retried batch's events are recognised: a SHA-1 digest of the rendered JSON, which holds the
 * event's auditID and stage, so two different events that share an auditID and stage (hand-edited logs, replays of
 * edited files, a client sending its own Audit-ID header) are both kept. The digest's 20 bytes as a string of 20
 * one-byte characters ('binary' is latin1): the cheapest key to build, hash and remember, where auditID, stage and a
 * base64 digest took 81. Bytes and their JSON give the same digest (a string is hashed as UTF-8).
 */
export const recordKey = (record: Pick<LogRecord, 'auditID' | 'stage' | 'json' | 'utf8'>): string => hash('sha1', record.utf8 ?? record.json, 'binary');

/**
 * The record with some of its fields changed, still reading `json`, `utf8` and `event` as the original does (a
 * spread copy would have none of them).
 */
export const recordWith = (record: LogRecord, fields: Partial<Pick<LogRecord, 'timestamp' | 'cluster' | 'bytes' | 'tiers'>>): LogRecord =>
  Object.assign(Object.create(Object.getPrototypeOf(record) as object) as LogRecord, record, fields);
