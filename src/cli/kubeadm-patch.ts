import { readFileSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { planWebhookFlags, Platform } from '../generate/apiserver-flags.ts';
import { apiServerMountPaths, kubeconfigFileReferences, patchApiServerManifest, type ManifestPatch } from '../generate/kubeadm-manifest.ts';
import { InputError, integerFlag, parseCommandLine, unreadable, UsageError, type Command } from './command.ts';
import { writeOutput } from './output.ts';

const DEFAULT_MANIFEST = '/etc/kubernetes/manifests/kube-apiserver.yaml';
const platforms = Object.values(Platform);

const usage = `usage: kube-audit-relay kubeadm-patch --policy FILE --kubeconfig FILE [--manifest FILE] [-o FILE | --in-place]
                                    [--platform ${platforms.join('|')} [--events-per-second N] [--max-event-bytes N]]

Adds to kube-apiserver's static pod manifest (as kubeadm writes it) the audit flags, a hostPath volume of type File
for each of the two files and a read-only volumeMount at the same path. Everything else is kept as written; applying
it twice changes nothing. Prints the patched manifest, and what changed to stderr.

flags:
  --policy FILE            absolute path of the audit policy on the control-plane node (--audit-policy-file)
  --kubeconfig FILE        absolute path of the webhook kubeconfig on the node (--audit-webhook-config-file)
  --manifest FILE          the manifest to read (default ${DEFAULT_MANIFEST}); work on a copy, then move it in:
                           the kubelet restarts the API server as soon as the file changes
  -o, --output FILE        write the patched manifest to FILE instead of stdout
  --in-place               write it back to --manifest
  --platform NAME          also set the computed webhook flags (see \`kube-audit-relay flags\`)
  --events-per-second N    for --platform (default 100)
  --max-event-bytes N      for --platform (default 102400)
  -h, --help               this text`;

/** \`kube-audit-relay kubeadm-patch\`: mounts the policy and webhook kubeconfig into kube-apiserver's static pod. */
export const kubeadmPatchCommand: Command = {
  name: 'kubeadm-patch',
  summary: "add the audit flags and read-only mounts to kubeadm's kube-apiserver manifest",
  usage,
  async run(args, io) {
    const { values } = parseCommandLine(args, {
      policy: { type: 'string' },
      kubeconfig: { type: 'string' },
      manifest: { type: 'string' },
      output: { type: 'string', short: 'o' },
      'in-place': { type: 'boolean' },
      platform: { type: 'string' },
      'events-per-second': { type: 'string' },
      'max-event-bytes': { type: 'string' },
    });
    const policy = values.policy;
    const kubeconfig = values.kubeconfig;
    if (policy === undefined || kubeconfig === undefined) throw new UsageError('--policy and --kubeconfig are both required');
    for (const [flag, path] of [['policy', policy], ['kubeconfig', kubeconfig]] as const) {
      if (!isAbsolute(path)) throw new UsageError(`--${flag} must be an absolute path on the node (a hostPath volume needs one), got '${path}'`);
    }
    if (policy === kubeconfig) throw new UsageError('--policy and --kubeconfig must be different files');
    if (values['in-place'] && values.output !== undefined) throw new UsageError('give -o or --in-place, not both');
    const manifestPath = values.manifest ?? DEFAULT_MANIFEST;

    const patch: ManifestPatch = {
      files: [
        { flag: '--audit-policy-file', path: policy, volume: 'audit-policy' },
        { flag: '--audit-webhook-config-file', path: kubeconfig, volume: 'audit-webhook-kubeconfig' },
      ],
      flags: computedFlags(values),
    };
    let text: string;
    try {
      text = readFileSync(manifestPath, 'utf8');
    } catch (error) {
      throw unreadable('--manifest', manifestPath, error);
    }
    let result;
    try {
      result = patchApiServerManifest(text, patch);
    } catch (error) {
      throw new InputError(`--manifest ${manifestPath} ${(error as Error).message}`, { cause: error });
    }
    for (const path of unreadableReferences(kubeconfig, result.text)) {
      io.stderr.write(`warning: ${kubeconfig} refers to ${path}, which is not mounted into the API server container: write the kubeconfig with --embed, or keep the file under a mounted directory such as /etc/kubernetes/pki\n`);
    }
    io.stderr.write(result.changes.length === 0 ? 'no change: the manifest already has the audit flags and mounts\n' : result.changes.map((change) => `${change}\n`).join(''));
    if (result.changes.length > 0) {
      io.stderr.write('note: kubeadm upgrade rewrites this manifest from the kubeadm-config ConfigMap; add the same flags and volumes to its ClusterConfiguration.apiServer (extraArgs, extraVolumes) to keep them\n');
    }
    await writeOutput(io, values['in-place'] ? manifestPath : values.output, result.text);
    return 0;
  },
};

function computedFlags(values: { platform?: string; 'events-per-second'?: string; 'max-event-bytes'?: string }): [string, string][] {
  if (values.platform === undefined) {
    if (values['events-per-second'] !== undefined || values['max-event-bytes'] !== undefined) {
      throw new UsageError('--events-per-second and --max-event-bytes need --platform');
    }
    return [];
  }
  if (!(platforms as string[]).includes(values.platform)) throw new UsageError(`unknown --platform '${values.platform}': use one of ${platforms.join(', ')}`);
  try {
    const plan = planWebhookFlags({
      platform: values.platform as Platform,
      eventsPerSecond: integerFlag('events-per-second', values['events-per-second'], 1, 1_000_000) ?? 100,
      maxEventBytes: integerFlag('max-event-bytes', values['max-event-bytes'], 1024) ?? 102_400,
      policyFile: '',
      kubeconfigFile: '',
    });
    // The two file flags come from --policy and --kubeconfig.
    return plan.flags.filter(([name]) => name !== '--audit-policy-file' && name !== '--audit-webhook-config-file').map(([name, value]) => [name, value]);
  } catch (error) {
    if (error instanceof RangeError) throw new UsageError(`${error.message}: lower --max-event-bytes`);
    throw error;
  }
}

/** Paths the webhook kubeconfig (when it is readable here) refers to that no volumeMount of the patched manifest covers. */
function unreadableReferences(kubeconfig: string, manifest: string): string[] {
  let text: string;
  try {
    text = readFileSync(kubeconfig, 'utf8');
  } catch {
    return [];
  }
  const mounts = apiServerMountPaths(manifest);
  return kubeconfigFileReferences(text).filter((path) => !mounts.some((mount) => path === mount || path.startsWith(`${mount.replace(/\/$/, '')}/`)));
}
