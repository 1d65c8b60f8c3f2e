import { RequestError } from '../errors.ts';
import type { DecodedItem } from './decode.ts';
import { AuditApiVersion, type AuditEvent } from './types.ts';

/**
 * Identifying fields and timestamps longer than this are not from an API server; capping them keeps a truncated
 * skeleton small. Measured as UTF-8 bytes of the JSON string's contents, so escapes (`\u0001`) count as written.
 */
export const MAX_IDENTIFIER_LENGTH = 256;

const SUPPORTED_API_VERSIONS: readonly string[] = Object.values(AuditApiVersion);
const IDENTIFIERS = ['auditID', 'stage', 'level', 'verb'] as const;
const TIMESTAMPS = ['requestReceivedTimestamp', 'stageTimestamp', 'timestamp'] as const;
const OPTIONAL_STRINGS = ['requestURI', 'userAgent', ...TIMESTAMPS] as const;
const USERS = ['user', 'impersonatedUser'] as const;
const OPTIONAL_OBJECTS = ['user', 'impersonatedUser', 'objectRef', 'responseStatus', 'annotations'] as const;

/** An escape (`\u0001`) is the longest any one UTF-16 unit gets in JSON's UTF-8: shorter strings are never too long. */
const MAX_ENCODED_BYTES_PER_UNIT = 6;

/** Whether the string takes more than MAX_IDENTIFIER_LENGTH bytes inside the skeleton's JSON, quotes excluded. */
const tooLong = (value: string): boolean =>
  value.length * MAX_ENCODED_BYTES_PER_UNIT > MAX_IDENTIFIER_LENGTH &&
  Buffer.byteLength(JSON.stringify(value), 'utf8') - 2 > MAX_IDENTIFIER_LENGTH;

export interface ValidEvent {
  readonly event: AuditEvent;
  readonly apiVersion: AuditApiVersion;
}

/**
 * Checks that an item is an audit Event in the fields the pipeline and the sinks read; everything else passes through
 * untouched. Throws a 400 naming the item and the field.
 */
export function validateEvent(item: DecodedItem): ValidEvent {
  const { value, label } = item;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RequestError(400, `${label} is not an object; every item must be an audit Event`);
  }
  const event = value as Record<string, unknown>;

  if (event.kind !== undefined && event.kind !== 'Event') invalid(label, 'kind must be Event');
  let apiVersion = item.listApiVersion;
  if (event.apiVersion !== undefined) {
    if (typeof event.apiVersion !== 'string' || !SUPPORTED_API_VERSIONS.includes(event.apiVersion)) {
      invalid(label, `apiVersion must be ${SUPPORTED_API_VERSIONS.join(' or ')}`);
    }
    apiVersion = event.apiVersion as AuditApiVersion;
  }

  for (const field of IDENTIFIERS) {
    const fieldValue = event[field];
    if (field === 'verb' || field === 'level') {
      if (fieldValue === undefined) continue;
    } else if (typeof fieldValue !== 'string' || fieldValue === '') {
      invalid(label, `${field} is missing or not a non-empty string`);
    }
    if (typeof fieldValue !== 'string') invalid(label, `${field} is not a string`);
    if (tooLong(fieldValue as string)) {
      invalid(label, `${field} is longer than ${MAX_IDENTIFIER_LENGTH} bytes`);
    }
  }
  for (const field of OPTIONAL_STRINGS) {
    if (event[field] !== undefined && event[field] !== null && typeof event[field] !== 'string') {
      invalid(label, `${field} is not a string`);
    }
  }
  for (const field of TIMESTAMPS) {
    const fieldValue = event[field];
    if (typeof fieldValue === 'string' && tooLong(fieldValue)) {
      invalid(label, `${field} is longer than ${MAX_IDENTIFIER_LENGTH} bytes`);
    }
  }
  for (const field of OPTIONAL_OBJECTS) {
    const fieldValue = event[field];
    if (fieldValue !== undefined && fieldValue !== null && (typeof fieldValue !== 'object' || Array.isArray(fieldValue))) {
      invalid(label, `${field} is not an object`);
    }
  }
  // Drop rules and truncation read who made the request.
  for (const field of USERS) {
    const user = event[field] as Record<string, unknown> | null | undefined;
    if (!user) continue;
    if (user.username !== undefined && user.username !== null && typeof user.username !== 'string') {
      invalid(label, `${field}.username is not a string`);
    }
    const { groups } = user;
    if (groups !== undefined && groups !== null && !(Array.isArray(groups) && groups.every((group) => typeof group === 'string'))) {
      invalid(label, `${field}.groups is not a list of strings`);
    }
  }
  if (event.sourceIPs !== undefined && event.sourceIPs !== null && !Array.isArray(event.sourceIPs)) {
    invalid(label, 'sourceIPs is not an array');
  }
  if (event.annotations) {
    for (const annotation of Object.values(event.annotations)) {
      if (typeof annotation !== 'string') invalid(label, 'annotations must map strings to strings');
    }
  }
  return { event: event as AuditEvent, apiVersion };
}

function invalid(label: string, problem: string): never {
  throw new RequestError(400, `${label}: ${problem}`);
}
