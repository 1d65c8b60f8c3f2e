import { createCloudWatchSink, type CloudWatchSinkOptions, DEFAULT_STREAM_PREFIX } from './cloudwatch.ts';
import { PUT_LOG_EVENTS_LIMITS } from './cloudwatch-pack.ts';
import { CLUSTER_PLACEHOLDER, createClusterRoutedSink, isPerClusterPath } from './per-cluster.ts';
import type { Sink } from './sink.ts';

/** Settings of the per-cluster CloudWatch Logs sink: those of one group's sink, with a group name that may be a template. */
export interface CloudWatchClusterSinkOptions extends Omit<CloudWatchSinkOptions, 'createLogGroup'> {
  /**
   * The group, or a template such as `/aws/eks/{cluster}/cluster` (EKS's layout): `{cluster}` becomes each record's
   * cluster. Templated groups must exist (the stack makes one per cluster); they are never created here.
   */
  readonly logGroupName: string;
}

/**
 * Each cluster's events in streams of their own, `<prefix><cluster>-<32 hex>` (events with no cluster: `<prefix><32
 * hex>` as before), and in the cluster's own group when the group name is a template.
 */
export function createCloudWatchClusterSink(options: CloudWatchClusterSinkOptions): Sink {
  const { logGroupName: template, streamPrefix = DEFAULT_STREAM_PREFIX, ...shared } = options;
  const templated = isPerClusterPath(template);
  return createClusterRoutedSink({
    name: 'cloudwatch-logs',
    maxRecordBytes: (options.maxEventBytes ?? 1_048_576) - PUT_LOG_EVENTS_LIMITS.overheadBytes,
    open: async (cluster) => {
      if (cluster === undefined && templated) {
        // Start-up checks (every caller has a cluster) make this unreachable; refuse rather than write to a literal '{cluster}'.
        throw new Error(`an event has no cluster, so ${template} names no log group: set CLUSTER_NAME or name the cluster on every token line`);
      }
      return createCloudWatchSink({
        ...shared,
        logGroupName: cluster === undefined ? template : template.replaceAll(CLUSTER_PLACEHOLDER, cluster),
        streamPrefix: cluster === undefined ? streamPrefix : `${streamPrefix}${cluster}-`,
        createLogGroup: !templated,
      });
    },
  });
}
