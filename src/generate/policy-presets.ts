import { stringify } from 'yaml';
import type { AuditPolicy, PolicyRule } from '../audit/policy.ts';

/** The policy presets `kube-audit-relay policy --preset` writes. */
export const PolicyPreset = {
  Minimal: 'minimal',
  Default: 'default',
  Verbose: 'verbose',
  Cis: 'cis',
} as const;
export type PolicyPreset = (typeof PolicyPreset)[keyof typeof PolicyPreset];

const MUTATING_VERBS = ['create', 'update', 'patch', 'delete', 'deletecollection'];
const READ_VERBS = ['get', 'list', 'watch'];

/** Health, metrics and version endpoints: polled constantly, never interesting. */
const healthEndpoints: PolicyRule = {
  level: 'None',
  nonResourceURLs: ['/healthz*', '/livez*', '/readyz*', '/metrics', '/metrics/*', '/version', '/version/'],
};

/** Objects whose bodies hold credentials or may: only who touched which one is recorded, never the content. */
const credentialBearing: PolicyRule = {
  level: 'Metadata',
  resources: [
    { group: '', resources: ['secrets', 'configmaps', 'serviceaccounts/token'] },
    { group: 'authentication.k8s.io', resources: ['tokenreviews'] },
  ],
};

/** Interactive access to containers and nodes: who opened a shell or a tunnel, without the stream. */
const interactiveAccess: PolicyRule = {
  level: 'Metadata',
  resources: [
    { group: '', resources: ['pods/exec', 'pods/attach', 'pods/portforward', 'pods/proxy', 'services/proxy', 'nodes/proxy'] },
  ],
};

const rbacChanges: PolicyRule = {
  level: 'RequestResponse',
  verbs: MUTATING_VERBS,
  resources: [{ group: 'rbac.authorization.k8s.io' }],
};

const workloadChanges: PolicyRule = {
  level: 'RequestResponse',
  verbs: MUTATING_VERBS,
  resources: [
    { group: '', resources: ['pods', 'services', 'serviceaccounts', 'namespaces', 'persistentvolumeclaims'] },
    { group: 'apps', resources: ['deployments', 'daemonsets', 'statefulsets', 'replicasets', '*/scale'] },
    { group: 'batch', resources: ['jobs', 'cronjobs'] },
  ],
};

/** The requests the control plane makes to itself all day long: lease renewals, node status, kube-proxy's watches, events. */
const systemNoise: readonly PolicyRule[] = [
  { level: 'None', users: ['system:kube-proxy'], verbs: ['watch'], resources: [{ group: '', resources: ['endpoints', 'services', 'services/status'] }, { group: 'discovery.k8s.io', resources: ['endpointslices'] }] },
  { level: 'None', userGroups: ['system:nodes'], verbs: ['get', 'watch'], resources: [{ group: '', resources: ['nodes', 'nodes/status'] }] },
  {
    level: 'None',
    users: ['system:kube-controller-manager', 'system:kube-scheduler', 'system:serviceaccount:kube-system:endpoint-controller'],
    verbs: ['get', 'update'],
    namespaces: ['kube-system'],
    resources: [{ group: '', resources: ['endpoints'] }, { group: 'coordination.k8s.io', resources: ['leases'] }],
  },
  { level: 'None', verbs: ['get', 'update'], resources: [{ group: 'coordination.k8s.io', resources: ['leases'] }] },
  { level: 'None', users: ['system:apiserver'], verbs: ['get'], resources: [{ group: '', resources: ['namespaces', 'namespaces/status', 'namespaces/finalize'] }] },
  { level: 'None', resources: [{ group: '', resources: ['events'] }, { group: 'events.k8s.io', resources: ['events'] }] },
];

/** Each preset's policy and what it is for, in the words its file header and the docs use. */
export const POLICY_PRESETS: Readonly<Record<PolicyPreset, { readonly summary: string; readonly policy: AuditPolicy }>> = {
  minimal: {
    summary: 'who changed what: every write at Metadata (no bodies); reads, health checks and events are not recorded',
    policy: {
      apiVersion: 'audit.k8s.io/v1',
      kind: 'Policy',
      omitStages: ['RequestReceived'],
      omitManagedFields: true,
      rules: [
        healthEndpoints,
        { level: 'None', verbs: READ_VERBS },
        { level: 'None', resources: [{ group: '', resources: ['events'] }, { group: 'events.k8s.io', resources: ['events'] }] },
        { level: 'None', verbs: ['update'], resources: [{ group: 'coordination.k8s.io', resources: ['leases'] }] },
        { level: 'Metadata', verbs: MUTATING_VERBS },
      ],
    },
  },
  default: {
    summary:
      'production: no health/metrics/version or system noise; Metadata for secrets, configmaps and token reviews; ' +
      'RequestResponse for RBAC and workload changes; Request for other writes; Metadata for reads',
    policy: {
      apiVersion: 'audit.k8s.io/v1',
      kind: 'Policy',
      omitStages: ['RequestReceived'],
      omitManagedFields: true,
      rules: [
        healthEndpoints,
        ...systemNoise,
        credentialBearing,
        interactiveAccess,
        rbacChanges,
        workloadChanges,
        { level: 'Request', verbs: MUTATING_VERBS },
        { level: 'Metadata' },
      ],
    },
  },
  verbose: {
    summary:
      'troubleshooting: RequestResponse for everything, every stage, except health endpoints (None) and ' +
      'secrets, configmaps and token reviews (still Metadata only)',
    policy: {
      apiVersion: 'audit.k8s.io/v1',
      kind: 'Policy',
      omitManagedFields: false,
      rules: [healthEndpoints, credentialBearing, { level: 'RequestResponse' }],
    },
  },
  cis: {
    summary:
      'CIS Kubernetes Benchmark 3.2.1/3.2.2: every request at least at Metadata; Metadata only for secrets, configmaps ' +
      'and token reviews; exec/attach/portforward/proxy recorded; pod, deployment and RBAC changes at RequestResponse',
    policy: {
      apiVersion: 'audit.k8s.io/v1',
      kind: 'Policy',
      omitStages: ['RequestReceived'],
      omitManagedFields: true,
      rules: [
        healthEndpoints,
        credentialBearing,
        interactiveAccess,
        rbacChanges,
        {
          level: 'RequestResponse',
          verbs: MUTATING_VERBS,
          resources: [{ group: '', resources: ['pods'] }, { group: 'apps', resources: ['deployments'] }],
        },
        { level: 'Metadata' },
      ],
    },
  },
};

/** The preset as the YAML file `--audit-policy-file` reads, headed by a comment saying what it records. */
export function renderPolicy(preset: PolicyPreset): string {
  const { summary, policy } = POLICY_PRESETS[preset];
  return `# kube-audit-relay policy --preset ${preset}\n# ${summary}\n${stringify(policy, { lineWidth: 0 })}`;
}
