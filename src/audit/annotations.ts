/** Annotation keys this project writes into events. Existing values are never overwritten, except the cluster's. */
export const Annotation = {
  /**
   * The cluster the event came from, as the relay knows it: named by the caller's credential (token or basic-auth
   * line, client certificate), else CLUSTER_NAME / --cluster. A different value sent with the event is overwritten.
   */
  Cluster: 'kube-audit-relay.io/cluster',
  /** Comma-separated paths whose values redaction replaced. */
  Redacted: 'kube-audit-relay.io/redacted',
  /** Set by the API server itself when it truncates; the relay sets it the same way. */
  Truncated: 'audit.k8s.io/truncated',
  /** What the relay's truncation removed: `requestObject,responseObject`, or `skeleton` when only a skeleton fits. */
  TruncatedFields: 'kube-audit-relay.io/truncated',
  /** `"true"` on the synthetic event `kube-audit-relay doctor` sends: stored like any event, counted as a canary. */
  Canary: 'kube-audit-relay.io/canary',
} as const;
