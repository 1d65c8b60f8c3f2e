import { ArchiveCopy, Tier, type TierRouting, type TierRule } from './tier-rule.ts';

// The identities of the control plane, as an audit Policy can name them (exact users, groups): kubeadm and upstream
// components. Managed control planes add their own (EKS: eks:*; AKS: aksService, nodeclient); add those as users in a
// tiers file, since Policy matching has no prefixes.
const CONTROL_PLANE_USERS = ['system:apiserver', 'system:kube-controller-manager', 'system:kube-scheduler', 'system:kube-proxy', 'system:volume-scheduler'];
const CONTROL_PLANE_GROUPS = ['system:nodes', 'system:serviceaccounts:kube-system'];
const READS = ['get', 'list', 'watch'];
const MUTATIONS = ['create', 'update', 'patch', 'delete', 'deletecollection'];

const REQUEST_RECEIVED: TierRule = {
  tier: Tier.Archive,
  why: 'RequestReceived is written before the request runs and is repeated, with its outcome, by ResponseComplete (or ResponseStarted for exec and watch); it matters only for requests that never completed, so it is kept for reconstruction only. No shipped detection reads it.',
  stages: ['RequestReceived'],
};

/** What every shipped detection needs hot (detections/rules.yaml), whoever asked: the first rules of every preset. */
const SECURITY_HOT: readonly TierRule[] = [
  {
    tier: Tier.Hot,
    why: 'Secrets, service-account tokens, RBAC, shells and tunnels into pods, ephemeral containers, admission webhooks and certificate requests are how clusters are taken over; every read and write of them is kept searchable, whoever made it.',
    resources: [
      { group: '', resources: ['secrets', 'serviceaccounts/token', 'pods/exec', 'pods/attach', 'pods/portforward', 'pods/ephemeralcontainers'] },
      { group: 'rbac.authorization.k8s.io' },
      { group: 'admissionregistration.k8s.io' },
      { group: 'certificates.k8s.io' },
    ],
  },
  {
    tier: Tier.Hot,
    why: "Creating pods and exposing services carry what the escape and exposure detections read (privileged, host namespaces, hostPath, NodePort); controllers create most pods, so this holds whoever made them.",
    verbs: ['create', 'update', 'patch'],
    resources: [{ group: '', resources: ['pods', 'services'] }],
  },
  { tier: Tier.Hot, why: 'Denied requests (401, 403) are probing or broken credentials; bursts of them alert.', responseCodes: [401, 403] },
  { tier: Tier.Hot, why: 'Anonymous requests should only reach health and discovery endpoints; anything else is a misconfiguration or an attack.', users: ['system:anonymous'] },
  { tier: Tier.Hot, why: 'Anonymous requests by group, for authenticators that name the user otherwise.', userGroups: ['system:unauthenticated'] },
  { tier: Tier.Hot, why: 'Impersonation acts as someone else; who did it is only in this event.', impersonated: true },
];

const HEALTH_CHECKS: TierRule = {
  tier: Tier.Archive,
  why: 'Health checks and version probes arrive every few seconds from load balancers and kubelets and say nothing about who changed what.',
  nonResourceURLs: ['/healthz*', '/livez*', '/readyz*', '/version'],
};

const controlPlaneReads = (tier: Tier): TierRule[] => [
  { tier, why: "Reads and watches by the control plane's own components: the bulk of a quiet cluster's events, needed only to reconstruct an incident.", verbs: READS, users: CONTROL_PLANE_USERS },
  { tier, why: 'The same for kubelets and kube-system controllers, named by group.', verbs: READS, userGroups: CONTROL_PLANE_GROUPS },
];

const WORKLOAD_READS: TierRule = {
  tier: Tier.Archive,
  why: "Reads and watches by workloads' service accounts: operators and controllers reconcile by reading all the time. A workload's reads of Secrets and tokens, its denied requests and its writes are hot above; what is left is routine, kept for reconstruction only.",
  verbs: READS,
  userGroups: ['system:serviceaccounts'],
};

const ROUTINE_WRITES: TierRule = {
  tier: Tier.Cold,
  why: "Lease renewals, status updates, endpoints and events are written all the time by the control plane and operators; kept for incidents, not searched daily. Deleting events is not routine and stays hot (below).",
  verbs: ['create', 'update', 'patch'],
  resources: [
    { group: 'coordination.k8s.io', resources: ['leases'] },
    { group: '', resources: ['*/status', 'endpoints', 'events'] },
    { group: 'discovery.k8s.io', resources: ['endpointslices'] },
    { group: 'events.k8s.io', resources: ['events'] },
  ],
};

const controlPlaneWrites = (tier: Tier): TierRule[] => [
  { tier, why: "The control plane's other writes (ReplicaSets of a Deployment, bindings by the scheduler) follow from a change someone made, which is hot.", users: CONTROL_PLANE_USERS },
  { tier, why: 'The same for kubelets and kube-system controllers, named by group.', userGroups: CONTROL_PLANE_GROUPS },
];

const MUTATIONS_HOT: TierRule = {
  tier: Tier.Hot,
  why: "Changes by people and by workloads' service accounts: what changed the cluster, and what most detections look at.",
  verbs: MUTATIONS,
};

/** The shipped routings, by the name `--preset` and TIERS_PRESET take. */
export const PRESETS = {
  /** Hot for what detections and investigations need, cold for routine writes and reads by people, archive for the reads of the control plane and of workloads. */
  security: {
    default: Tier.Cold,
    archive: ArchiveCopy.Never,
    rules: [REQUEST_RECEIVED, ...SECURITY_HOT, HEALTH_CHECKS, ...controlPlaneReads(Tier.Archive), WORKLOAD_READS, ROUTINE_WRITES, ...controlPlaneWrites(Tier.Cold), MUTATIONS_HOT],
  },
  /** Everything stored searchable: hot as security, the rest cold, nothing dropped or archive-only; archived too. */
  compliance: {
    default: Tier.Cold,
    archive: ArchiveCopy.Always,
    rules: [{ ...REQUEST_RECEIVED, tier: Tier.Cold, why: 'RequestReceived is repeated by the later stages of every completed request; searchable at the cold price.' }, ...SECURITY_HOT, ROUTINE_WRITES, ...controlPlaneWrites(Tier.Cold), MUTATIONS_HOT],
  },
  /** The least that still serves every shipped detection: security's hot events, everything else dropped. */
  minimal: {
    default: Tier.Drop,
    archive: ArchiveCopy.Never,
    rules: [{ ...REQUEST_RECEIVED, tier: Tier.Drop, why: 'Repeated by the later stages of every completed request.' }, ...SECURITY_HOT, { ...ROUTINE_WRITES, tier: Tier.Drop, why: 'Routine writes of the control plane and operators; no detection reads them.' }, ...controlPlaneWrites(Tier.Drop), MUTATIONS_HOT],
  },
} as const satisfies Record<string, TierRouting>;

export type PresetName = keyof typeof PRESETS;
export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];
