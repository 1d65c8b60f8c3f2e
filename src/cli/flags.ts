import { DEFAULT_BUFFER_MEMORY_BYTES, planWebhookFlags, Platform, renderFlagPlan } from '../generate/apiserver-flags.ts';
import { DISTRIBUTION_AUDIT_DIRS, FlagFormat, renderForDistribution } from '../generate/distribution-config.ts';
import { integerFlag, parseCommandLine, UsageError, type Command } from './command.ts';

const platforms = Object.values(Platform);
const formats = Object.values(FlagFormat);

/** Where `kubeadm-patch` mounts the two files, so its paths and these defaults agree. */
const DEFAULT_POLICY_PATH = '/etc/kubernetes/audit/policy.yaml';
const DEFAULT_KUBECONFIG_PATH = '/etc/kubernetes/audit/webhook-kubeconfig.yaml';

const MIB = 1024 * 1024;

const usage = `usage: kube-audit-relay flags --platform ${platforms.join('|')} [--events-per-second N] [--max-event-bytes N] [--buffer-memory-mib N]
                              [--format ${formats.join('|')}]

Prints the kube-apiserver audit webhook flags, computed for the platform's request limit and the event rate,
with the reasoning as # comments.

flags:
  --platform NAME          where the relay runs: aws (Lambda behind private API Gateway), azure (Functions), local (serve)
  --events-per-second N    peak audit events per second under your policy (default 100)
  --max-event-bytes N      --audit-webhook-truncate-max-event-size (default 102400, the API server's)
  --buffer-memory-mib N    most memory the API server's audit buffer may take, full of events at the truncation
                           size; caps --audit-webhook-batch-buffer-size (default ${DEFAULT_BUFFER_MEMORY_BYTES / MIB})
  --format FORMAT          flags: --flag=value lines (default); k3s or rke2: kube-apiserver-arg entries for
                           /etc/rancher/{k3s,rke2}/config.yaml (rke2 with kube-apiserver-extra-mount);
                           kubeadm-config: a ClusterConfiguration (apiServer.extraArgs, extraVolumes), kept by
                           kubeadm upgrade. Each says where to put the two files.
  --policy-file PATH       --audit-policy-file on the API server's host (default ${DEFAULT_POLICY_PATH};
                           k3s ${DISTRIBUTION_AUDIT_DIRS.k3s}/policy.yaml, rke2 ${DISTRIBUTION_AUDIT_DIRS.rke2}/policy.yaml)
  --kubeconfig-file PATH   --audit-webhook-config-file on the API server's host (default ${DEFAULT_KUBECONFIG_PATH};
                           k3s and rke2: webhook-kubeconfig.yaml in the directory above)
  -h, --help               this text`;

/** \`kube-audit-relay flags\`: the computed kube-apiserver audit flags. */
export const flagsCommand: Command = {
  name: 'flags',
  summary: 'print kube-apiserver audit webhook flags computed for a platform and event rate',
  usage,
  async run(args, io) {
    const { values } = parseCommandLine(args, {
      platform: { type: 'string' },
      'events-per-second': { type: 'string' },
      'max-event-bytes': { type: 'string' },
      'buffer-memory-mib': { type: 'string' },
      'policy-file': { type: 'string' },
      'kubeconfig-file': { type: 'string' },
      format: { type: 'string' },
    });
    const format = (values.format ?? FlagFormat.Flags) as FlagFormat;
    if (!formats.includes(format)) throw new UsageError(`unknown --format '${values.format}': use one of ${formats.join(', ')}`);
    const directory = format === FlagFormat.Flags ? undefined : DISTRIBUTION_AUDIT_DIRS[format];
    const platform = values.platform;
    if (platform === undefined) throw new UsageError(`--platform is required: one of ${platforms.join(', ')}`);
    if (!(platforms as string[]).includes(platform)) throw new UsageError(`unknown --platform '${platform}': use one of ${platforms.join(', ')}`);
    const eventsPerSecond = integerFlag('events-per-second', values['events-per-second'], 1, 1_000_000) ?? 100;
    const maxEventBytes = integerFlag('max-event-bytes', values['max-event-bytes'], 1024) ?? 102_400;
    const bufferMemoryMib = integerFlag('buffer-memory-mib', values['buffer-memory-mib'], 1, 1_048_576) ?? DEFAULT_BUFFER_MEMORY_BYTES / MIB;
    let plan;
    try {
      plan = planWebhookFlags({
        platform: platform as Platform,
        eventsPerSecond,
        maxEventBytes,
        bufferMemoryBytes: bufferMemoryMib * MIB,
        policyFile: values['policy-file'] ?? (directory ? `${directory}/policy.yaml` : DEFAULT_POLICY_PATH),
        kubeconfigFile: values['kubeconfig-file'] ?? (directory ? `${directory}/webhook-kubeconfig.yaml` : DEFAULT_KUBECONFIG_PATH),
      });
    } catch (error) {
      if (error instanceof RangeError) {
        throw new UsageError(`${error.message}: lower --max-event-bytes${/buffer/.test(error.message) ? ' or raise --buffer-memory-mib' : ''}`);
      }
      throw error;
    }
    const command = `# kube-audit-relay flags --platform ${platform} --events-per-second ${eventsPerSecond} --max-event-bytes ${maxEventBytes} --buffer-memory-mib ${bufferMemoryMib}`;
    const body = format === FlagFormat.Flags ? renderFlagPlan(plan) : renderForDistribution(plan, format);
    io.stdout.write(`${command}${format === FlagFormat.Flags ? '' : ` --format ${format}`}\n${body}`);
    return 0;
  },
};
