// `flags --format k3s|rke2|kubeadm-config` through the real CLI: the output parses as YAML, holds exactly the flags
// the plain format prints, and mounts the files' directory where the distribution runs the API server in a pod.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { runCommand } from '../support/cli.ts';

/** The `--flag=value` lines of the plain format, without the dashes, for the same inputs. */
async function plainFlags(extra: string[]): Promise<string[]> {
  const { code, stdout } = await runCommand(['flags', '--platform', 'aws', '--events-per-second', '300', ...extra]);
  assert.equal(code, 0);
  return stdout.split('\n').filter((line) => line.startsWith('--')).map((line) => line.slice(2));
}

async function formatted(format: string, extra: string[] = []): Promise<Record<string, unknown>> {
  const { code, stdout, stderr } = await runCommand(['flags', '--platform', 'aws', '--events-per-second', '300', '--format', format, ...extra]);
  assert.equal(code, 0, stderr);
  assert.match(stdout, /^# kube-audit-relay flags .* --format /);
  assert.match(stdout, /sudo install -D -m 0600 policy\.yaml /, 'says where to put the files');
  return parse(stdout) as Record<string, unknown>;
}

describe('flags --format', () => {
  it('k3s: kube-apiserver-arg entries for /etc/rancher/k3s/config.yaml, with the files under /var/lib/rancher/k3s', async () => {
    const config = await formatted('k3s');
    const paths = ['--policy-file', '/var/lib/rancher/k3s/server/audit/policy.yaml', '--kubeconfig-file', '/var/lib/rancher/k3s/server/audit/webhook-kubeconfig.yaml'];
    assert.deepEqual(Object.keys(config), ['kube-apiserver-arg']);
    assert.deepEqual(config['kube-apiserver-arg'], await plainFlags(paths));
  });

  it('rke2: the same entries, and the directory mounted read-only into the static pod', async () => {
    const config = await formatted('rke2');
    const paths = ['--policy-file', '/etc/rancher/rke2/audit/policy.yaml', '--kubeconfig-file', '/etc/rancher/rke2/audit/webhook-kubeconfig.yaml'];
    assert.deepEqual(config['kube-apiserver-arg'], await plainFlags(paths));
    assert.deepEqual(config['kube-apiserver-extra-mount'], ['/etc/rancher/rke2/audit:/etc/rancher/rke2/audit:ro']);
  });

  it('kubeadm-config: a ClusterConfiguration with extraArgs and one extraVolume per directory of the files', async () => {
    const paths = ['--policy-file', '/etc/kubernetes/audit/policy.yaml', '--kubeconfig-file', '/srv/relay/webhook.yaml'];
    const config = await formatted('kubeadm-config', paths);
    assert.equal(config.apiVersion, 'kubeadm.k8s.io/v1beta4');
    assert.equal(config.kind, 'ClusterConfiguration');
    const apiServer = config.apiServer as { extraArgs: { name: string; value: string }[]; extraVolumes: Record<string, unknown>[] };
    assert.deepEqual(apiServer.extraArgs.map(({ name, value }) => `${name}=${value}`), await plainFlags(paths));
    assert.ok(apiServer.extraArgs.every(({ value }) => typeof value === 'string'), 'v1beta4 extraArgs values are strings');
    assert.deepEqual(apiServer.extraVolumes, [
      { name: 'kube-audit-relay', hostPath: '/etc/kubernetes/audit', mountPath: '/etc/kubernetes/audit', readOnly: true, pathType: 'DirectoryOrCreate' },
      { name: 'kube-audit-relay-2', hostPath: '/srv/relay', mountPath: '/srv/relay', readOnly: true, pathType: 'DirectoryOrCreate' },
    ]);
  });

  it('refuses an unknown format, naming the known ones', async () => {
    const { code, stderr } = await runCommand(['flags', '--platform', 'aws', '--format', 'microk8s']);
    assert.equal(code, 2);
    assert.match(stderr, /unknown --format 'microk8s': use one of flags, k3s, rke2, kubeadm-config/);
  });
});
