/**
 * The audit.k8s.io/v1 types the pipeline reads, named as in Kubernetes' staging/src/k8s.io/apiserver/pkg/apis/audit/v1/types.go.
 * Every interface is open: fields this project does not know pass through untouched.
 */

export const AuditApiVersion = {
  V1: 'audit.k8s.io/v1',
  V1beta1: 'audit.k8s.io/v1beta1',
} as const;
export type AuditApiVersion = (typeof AuditApiVersion)[keyof typeof AuditApiVersion];

export const Level = {
  None: 'None',
  Metadata: 'Metadata',
  Request: 'Request',
  RequestResponse: 'RequestResponse',
} as const;
export type Level = (typeof Level)[keyof typeof Level];

export const Stage = {
  RequestReceived: 'RequestReceived',
  ResponseStarted: 'ResponseStarted',
  ResponseComplete: 'ResponseComplete',
  Panic: 'Panic',
} as const;
export type Stage = (typeof Stage)[keyof typeof Stage];

export interface UserInfo {
  username?: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
  [field: string]: unknown;
}

export interface ObjectReference {
  resource?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  apiGroup?: string;
  apiVersion?: string;
  resourceVersion?: string;
  subresource?: string;
  [field: string]: unknown;
}

/** metav1.Status as it appears in responseStatus. */
export interface ResponseStatus {
  code?: number;
  status?: string;
  message?: string;
  reason?: string;
  [field: string]: unknown;
}

export interface AuditEvent {
  kind?: string;
  apiVersion?: string;
  level: string;
  auditID: string;
  stage: string;
  requestURI: string;
  verb: string;
  user: UserInfo;
  impersonatedUser?: UserInfo;
  sourceIPs?: string[];
  userAgent?: string;
  objectRef?: ObjectReference;
  responseStatus?: ResponseStatus;
  requestObject?: unknown;
  responseObject?: unknown;
  /** MicroTime: UTC, `Z`, six fractional digits. */
  requestReceivedTimestamp?: string;
  stageTimestamp?: string;
  /** v1beta1 only; kept as a last fallback for the record's time. */
  timestamp?: string;
  annotations?: Record<string, string>;
  [field: string]: unknown;
}
