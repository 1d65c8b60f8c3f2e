// Events whose tier under the shipped `security` preset is known, for the tests of each entry point's tier routing.

export interface EventShape {
  readonly verb: string;
  readonly user?: string;
  readonly groups?: readonly string[];
  readonly resource?: string;
  readonly group?: string;
  readonly nonResourceURL?: string;
  readonly stage?: string;
}

/** One Metadata-level event in the namespace shop as the API server writes it, timed now. */
export function tierEvent(auditID: string, shape: EventShape): string {
  const now = new Date().toISOString().replace('Z', '000Z');
  const resource = shape.resource ?? 'configmaps';
  return JSON.stringify({
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'Metadata',
    auditID,
    stage: shape.stage ?? 'ResponseComplete',
    requestURI: shape.nonResourceURL ?? `/api/v1/namespaces/shop/${resource}`,
    verb: shape.verb,
    user: { username: shape.user ?? 'alice@example.com', groups: shape.groups ?? ['system:authenticated'] },
    ...(shape.nonResourceURL ? {} : { objectRef: { resource, namespace: 'shop', name: 'web', apiGroup: shape.group ?? '', apiVersion: 'v1' } }),
    responseStatus: { code: 200 },
    requestReceivedTimestamp: now,
    stageTimestamp: now,
  });
}

/**
 * Seven events and the tier the security preset gives each (the rule that decides it in brackets): two hot, two cold,
 * three archive-only. auditIDs sorted per tier.
 */
export function securitySample(): { lines: string[]; hot: string[]; cold: string[]; archive: string[] } {
  return {
    lines: [
      tierEvent('hot-create', { verb: 'create' }), // a person's mutation
      tierEvent('hot-secret-read', { verb: 'get', resource: 'secrets' }), // Secrets, whoever reads them
      tierEvent('cold-person-read', { verb: 'get' }), // the default
      tierEvent('cold-lease-renewal', { verb: 'update', resource: 'leases', group: 'coordination.k8s.io', user: 'system:kube-controller-manager' }), // routine writes
      tierEvent('archive-scheduler-watch', { verb: 'watch', resource: 'pods', user: 'system:kube-scheduler' }), // control plane reads
      tierEvent('archive-health', { verb: 'get', nonResourceURL: '/healthz', user: 'system:node:node-1', groups: ['system:nodes', 'system:authenticated'] }), // health checks
      tierEvent('archive-request-received', { verb: 'create', stage: 'RequestReceived' }), // RequestReceived
    ],
    hot: ['hot-create', 'hot-secret-read'],
    cold: ['cold-lease-renewal', 'cold-person-read'],
    archive: ['archive-health', 'archive-request-received', 'archive-scheduler-watch'],
  };
}
