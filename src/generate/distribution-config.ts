import { dirname } from 'node:path';
import { stringify } from 'yaml';
import type { FlagPlan } from './apiserver-flags.ts';

/** How `flags` prints the plan: plain flags, or the configuration file of a Kubernetes distribution. */
export const FlagFormat = {
  /** `--flag=value` lines. */
  Flags: 'flags',
  /** `/etc/rancher/k3s/config.yaml`: kube-apiserver-arg entries (k3s runs the API server in its own process). */
  K3s: 'k3s',
  /** `/etc/rancher/rke2/config.yaml`: kube-apiserver-arg entries and a kube-apiserver-extra-mount for the files. */
  Rke2: 'rke2',
  /** A kubeadm ClusterConfiguration (apiServer.extraArgs, extraVolumes), which `kubeadm upgrade` keeps. */
  KubeadmConfig: 'kubeadm-config',
} as const;
export type FlagFormat = (typeof FlagFormat)[keyof typeof FlagFormat];

/** Where each distribution's API server finds the policy and the webhook kubeconfig by default. */
export const DISTRIBUTION_AUDIT_DIRS: Readonly<Record<Exclude<FlagFormat, 'flags'>, string>> = {
  k3s: '/var/lib/rancher/k3s/server/audit',
  rke2: '/etc/rancher/rke2/audit',
  'kubeadm-config': '/etc/kubernetes/audit',
};

const comments = (lines: readonly string[]): string => lines.map((line) => (line === '' ? '#' : `# ${line}`)).join('\n');

/** The flag without its dashes, as k3s and RKE2 list them: `audit-webhook-mode=batch`. */
const argument = ([name, value]: readonly [string, string]): string => `${name.replace(/^--/, '')}=${value}`;

/** The directories holding the plan's policy and kubeconfig files, each once. */
function fileDirectories(plan: FlagPlan): string[] {
  const files = plan.flags.filter(([name]) => name === '--audit-policy-file' || name === '--audit-webhook-config-file').map(([, value]) => dirname(value));
  return [...new Set(files)];
}

function filePlacement(plan: FlagPlan, install: string): string[] {
  const file = (flag: string) => plan.flags.find(([name]) => name === flag)![1];
  return [
    'Put the two files in place on every server (control-plane) node first:',
    `  sudo install -D -m 0600 policy.yaml ${file('--audit-policy-file')}`,
    `  sudo install -D -m 0600 webhook-kubeconfig.yaml ${file('--audit-webhook-config-file')}`,
    install,
    '',
  ];
}

/** `/etc/rancher/k3s/config.yaml` content: the API server runs inside the k3s process, so host paths work as they are. */
function renderK3s(plan: FlagPlan): string {
  const header = [
    'kube-audit-relay: merge into /etc/rancher/k3s/config.yaml on every server node (or put this file in',
    '/etc/rancher/k3s/config.yaml.d/90-kube-audit-relay.yaml), then: sudo systemctl restart k3s',
    'In config.yaml.d, a list replaces the one in config.yaml: there, write kube-apiserver-arg+ to add to it instead.',
    '',
    ...filePlacement(plan, 'k3s runs kube-apiserver in its own process, so it reads these host paths directly.'),
    ...plan.reasoning,
  ];
  return `${comments(header)}\n${stringify({ 'kube-apiserver-arg': plan.flags.map(argument) }, { lineWidth: 0 })}`;
}

/** `/etc/rancher/rke2/config.yaml` content: RKE2's API server is a static pod, so the files' directory is mounted in. */
function renderRke2(plan: FlagPlan): string {
  const header = [
    'kube-audit-relay: merge into /etc/rancher/rke2/config.yaml on every server node (or put this file in',
    '/etc/rancher/rke2/config.yaml.d/90-kube-audit-relay.yaml), then: sudo systemctl restart rke2-server',
    'In config.yaml.d, a list replaces the one in config.yaml: there, write the keys with a trailing + to add to it instead.',
    '',
    ...filePlacement(plan, "RKE2 runs kube-apiserver as a static pod: kube-apiserver-extra-mount mounts the files' directory into it, read-only."),
    ...plan.reasoning,
  ];
  const config = {
    'kube-apiserver-arg': plan.flags.map(argument),
    'kube-apiserver-extra-mount': fileDirectories(plan).map((directory) => `${directory}:${directory}:ro`),
  };
  return `${comments(header)}\n${stringify(config, { lineWidth: 0 })}`;
}

/**
 * A kubeadm ClusterConfiguration (kubeadm.k8s.io/v1beta4, kubeadm 1.31 and later): the flags as apiServer.extraArgs
 * and the files' directory as an extraVolume. kubeadm writes the static pod manifest from it, so `kubeadm upgrade`
 * keeps the settings, which a patched manifest loses.
 */
function renderKubeadmConfig(plan: FlagPlan): string {
  const header = [
    'kube-audit-relay: the audit settings of a kubeadm ClusterConfiguration (kubeadm.k8s.io/v1beta4, kubeadm 1.31+;',
    'with v1beta3, extraArgs is a map of name: value). Merge apiServer.extraArgs and apiServer.extraVolumes into your',
    'ClusterConfiguration (kubectl -n kube-system get configmap kubeadm-config -o jsonpath={.data.ClusterConfiguration}),',
    'then apply it on each control-plane node: sudo kubeadm init phase control-plane apiserver --config cluster.yaml',
    'and store it for upgrades: kubectl -n kube-system edit configmap kubeadm-config. kubeadm upgrade keeps it.',
    '',
    ...filePlacement(plan, "kube-apiserver is a static pod: the extraVolume mounts the files' directory into it, read-only."),
    ...plan.reasoning,
  ];
  const config = {
    apiVersion: 'kubeadm.k8s.io/v1beta4',
    kind: 'ClusterConfiguration',
    apiServer: {
      extraArgs: plan.flags.map(([name, value]) => ({ name: name.replace(/^--/, ''), value })),
      extraVolumes: fileDirectories(plan).map((directory, index) => ({
        name: index === 0 ? 'kube-audit-relay' : `kube-audit-relay-${index + 1}`,
        hostPath: directory,
        mountPath: directory,
        readOnly: true,
        pathType: 'DirectoryOrCreate',
      })),
    },
  };
  return `${comments(header)}\n${stringify(config, { lineWidth: 0 })}`;
}

/** The plan in the chosen format; `flags` is renderFlagPlan's text. */
export function renderForDistribution(plan: FlagPlan, format: Exclude<FlagFormat, 'flags'>): string {
  if (format === FlagFormat.K3s) return renderK3s(plan);
  if (format === FlagFormat.Rke2) return renderRke2(plan);
  return renderKubeadmConfig(plan);
}
