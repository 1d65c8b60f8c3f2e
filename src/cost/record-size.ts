import type { AuditApiVersion, AuditEvent } from '../audit/types.ts';
import { type LogRecord, recordKey } from '../record.ts';
import { toAksAuditRow } from '../sinks/aks-audit-row.ts';
import type { CostPlatform } from './prices.ts';

/**
 * Bytes a destination bills for one record: CloudWatch Logs counts the message plus a per-event overhead (26 bytes);
 * Azure Monitor counts the stored row, measured as the AKSAudit-shaped row's JSON the relay sends.
 */
export function billedBytes(platform: CostPlatform, record: LogRecord, overheadBytes: number): number {
  if (platform === 'aws') return record.bytes + overheadBytes;
  return Buffer.byteLength(JSON.stringify(toAksAuditRow(record).row), 'utf8') + overheadBytes;
}

/** A JSON line stored in an archive object. */
export const archivedBytes = (record: LogRecord): number => record.bytes + 1;

/** An event exactly as received, as a record: what the platform's own audit logging would store. */
export class ReceivedEvent implements LogRecord {
  readonly auditID: string;
  readonly stage: string;
  readonly timestamp = 0;
  readonly apiVersion: AuditApiVersion;

  constructor(
    readonly json: string,
    readonly bytes: number,
    event: AuditEvent,
    listApiVersion: AuditApiVersion,
  ) {
    this.auditID = event.auditID;
    this.stage = event.stage;
    this.apiVersion = (event.apiVersion as AuditApiVersion | undefined) ?? listApiVersion;
  }

  get event(): AuditEvent {
    return JSON.parse(this.json) as AuditEvent;
  }

  /** Computed only if read: sizing an event never needs it. */
  get key(): string {
    return recordKey(this);
  }
}
