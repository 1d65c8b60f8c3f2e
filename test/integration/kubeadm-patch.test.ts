import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { renderWebhookKubeconfig } from '../../src/generate/kubeconfig.ts';
import { runCommand } from '../support/cli.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/kubeadm/kube-apiserver.yaml', import.meta.url));
const POLICY = '/etc/kubernetes/audit/policy.yaml';
const KUBECONFIG = '/etc/kubernetes/audit/webhook-kubeconfig.yaml';

interface Manifest {
  spec: {
    containers: { name: string; command: string[]; volumeMounts: { mountPath: string; name: string; readOnly?: boolean }[] }[];
    volumes: { name: string; hostPath: { path: string; type: string } }[];
  };
}

const apiServer = (manifest: Manifest) => manifest.spec.containers.find((container) => container.name === 'kube-apiserver')!;

describe('kubeadm-patch', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kubeadm-patch-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const patch = (manifest: string, ...extra: string[]) =>
    runCommand(['kubeadm-patch', '--policy', POLICY, '--kubeconfig', KUBECONFIG, '--manifest', manifest, ...extra]);

  test('adds the flags, File hostPath volumes and read-only mounts to a kubeadm manifest and keeps every other line', async () => {
    const original = readFileSync(FIXTURE, 'utf8');
    const result = await patch(FIXTURE);
    assert.equal(result.code, 0, result.stderr);

    const before = parse(original) as Manifest;
    const after = parse(result.stdout) as Manifest;
    const command = apiServer(after).command;
    assert.equal(command[0], 'kube-apiserver');
    assert.deepEqual(command.filter((arg) => arg.startsWith('--audit-')), [`--audit-policy-file=${POLICY}`, `--audit-webhook-config-file=${KUBECONFIG}`]);
    assert.deepEqual(command.slice(1), [...command.slice(1)].sort(), 'flags stay in kubeadm\'s sorted order');
    assert.deepEqual(apiServer(after).volumeMounts.slice(-2), [
      { mountPath: POLICY, name: 'audit-policy', readOnly: true },
      { mountPath: KUBECONFIG, name: 'audit-webhook-kubeconfig', readOnly: true },
    ]);
    assert.deepEqual(after.spec.volumes.slice(-2), [
      { hostPath: { path: POLICY, type: 'File' }, name: 'audit-policy' },
      { hostPath: { path: KUBECONFIG, type: 'File' }, name: 'audit-webhook-kubeconfig' },
    ]);

    // Take the additions away and the manifest is the original, value for value and line for line.
    apiServer(after).command = command.filter((arg) => !arg.startsWith('--audit-'));
    apiServer(after).volumeMounts = apiServer(after).volumeMounts.slice(0, -2);
    after.spec.volumes = after.spec.volumes.slice(0, -2);
    assert.deepEqual(after, before);
    const patchedLines = result.stdout.split('\n');
    let position = 0;
    for (const line of original.split('\n')) {
      position = patchedLines.indexOf(line, position);
      assert.ok(position >= 0, `original line kept in order: ${line}`);
      position += 1;
    }
    assert.equal(patchedLines.length - original.split('\n').length, 2 + 3 * 2 + 4 * 2);
    assert.match(result.stderr, /added --audit-policy-file=.*\nadded --audit-webhook-config-file=/);
    assert.match(result.stderr, /kubeadm upgrade rewrites this manifest from the kubeadm-config ConfigMap/);
  });

  test('is idempotent: patching the patched manifest changes nothing, also with the computed flags', async () => {
    for (const extra of [[], ['--platform', 'aws', '--events-per-second', '300']]) {
      const once = join(dir, 'once.yaml');
      assert.equal((await patch(FIXTURE, ...extra, '-o', once)).code, 0);
      const twice = await patch(once, ...extra);
      assert.equal(twice.code, 0);
      assert.equal(twice.stdout, readFileSync(once, 'utf8'));
      assert.equal(twice.stderr, 'no change: the manifest already has the audit flags and mounts\n');
    }
  });

  test('--platform adds the computed webhook flags; a changed path replaces the flag and mount instead of repeating them', async () => {
    const copy = join(dir, 'copy.yaml');
    copyFileSync(FIXTURE, copy);
    assert.equal((await patch(copy, '--platform', 'aws', '--in-place')).code, 0);
    const patched = parse(readFileSync(copy, 'utf8')) as Manifest;
    assert.ok(apiServer(patched).command.includes('--audit-webhook-batch-max-size=28'));
    assert.ok(apiServer(patched).command.includes('--audit-webhook-truncate-enabled=true'));

    const moved = await runCommand(['kubeadm-patch', '--policy', '/etc/kubernetes/audit/policy-v2.yaml', '--kubeconfig', KUBECONFIG, '--manifest', copy]);
    assert.equal(moved.code, 0, moved.stderr);
    const after = parse(moved.stdout) as Manifest;
    assert.deepEqual(apiServer(after).command.filter((arg) => arg.startsWith('--audit-policy-file')), ['--audit-policy-file=/etc/kubernetes/audit/policy-v2.yaml']);
    assert.deepEqual(apiServer(after).volumeMounts.filter((mount) => mount.name === 'audit-policy').map((mount) => mount.mountPath), ['/etc/kubernetes/audit/policy-v2.yaml']);
    assert.deepEqual(after.spec.volumes.filter((volume) => volume.name === 'audit-policy').map((volume) => volume.hostPath.path), ['/etc/kubernetes/audit/policy-v2.yaml']);
    assert.match(moved.stderr, /replaced --audit-policy-file=\/etc\/kubernetes\/audit\/policy\.yaml with --audit-policy-file=\/etc\/kubernetes\/audit\/policy-v2\.yaml/);
  });

  test('warns when the webhook kubeconfig refers to files the container cannot read', async () => {
    const kubeconfig = join(dir, 'webhook.yaml');
    // As `kubeconfig` writes it on the API server's host, where these files exist (they do not exist here).
    writeFileSync(
      kubeconfig,
      renderWebhookKubeconfig({
        server: 'https://relay.example.com',
        credentials: { tokenFile: '/var/lib/relay/token' },
        certificateAuthority: { path: '/etc/kubernetes/pki/relay-ca.crt' },
      }),
    );
    const result = await runCommand(['kubeadm-patch', '--policy', POLICY, '--kubeconfig', kubeconfig, '--manifest', FIXTURE]);
    assert.equal(result.code, 0);
    assert.match(result.stderr, /refers to \/var\/lib\/relay\/token, which is not mounted into the API server container: write the kubeconfig with --embed/);
    assert.doesNotMatch(result.stderr, /relay-ca\.crt/, '/etc/kubernetes/pki is mounted by kubeadm');
  });

  test('refusals, exit 2', async () => {
    const notApiServer = join(dir, 'etcd.yaml');
    writeFileSync(notApiServer, 'apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: etcd\n    command:\n    - etcd\n');
    const clash = join(dir, 'clash.yaml');
    writeFileSync(clash, readFileSync(FIXTURE, 'utf8').replace('- mountPath: /etc/ssl/certs\n      name: ca-certs', `- mountPath: ${POLICY}\n      name: my-policy`));
    const cases: [string[], RegExp][] = [
      [['--policy', 'policy.yaml', '--kubeconfig', KUBECONFIG, '--manifest', FIXTURE], /--policy must be an absolute path on the node/],
      [['--policy', POLICY, '--manifest', FIXTURE], /--policy and --kubeconfig are both required/],
      [['--policy', POLICY, '--kubeconfig', KUBECONFIG, '--manifest', join(dir, 'none.yaml')], /--manifest .*none\.yaml does not exist/],
      [['--policy', POLICY, '--kubeconfig', KUBECONFIG, '--manifest', notApiServer], /has no container named kube-apiserver/],
      [['--policy', POLICY, '--kubeconfig', KUBECONFIG, '--manifest', clash], /already mounts \/etc\/kubernetes\/audit\/policy\.yaml as my-policy/],
      [['--policy', POLICY, '--kubeconfig', KUBECONFIG, '--manifest', FIXTURE, '--events-per-second', '5'], /--events-per-second and --max-event-bytes need --platform/],
      [['--policy', POLICY, '--kubeconfig', KUBECONFIG, '--manifest', FIXTURE, '-o', 'x', '--in-place'], /give -o or --in-place, not both/],
    ];
    for (const [args, message] of cases) {
      const result = await runCommand(['kubeadm-patch', ...args]);
      assert.equal(result.code, 2, args.join(' '));
      assert.match(result.stderr, message);
      assert.equal(result.stdout, '');
    }
  });
});
