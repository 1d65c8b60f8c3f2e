import { isClusterName } from './cluster-name.ts';
import type { PipelineConfig, SettingsReader } from './config.ts';

/** Where a `{cluster}` template was configured, for the messages: the setting's name and the flag that sets CLUSTER_NAME. */
export interface ClusterTemplateSetting {
  /** The setting holding the template, e.g. OUTPUTS or LOG_GROUP_NAME. */
  readonly setting: string;
  /** How the user sets CLUSTER_NAME there, e.g. `--cluster (CLUSTER_NAME)`. */
  readonly clusterSetting: string;
}

/**
 * With a `{cluster}` template (a file or log group per cluster), every accepted caller must end up with a cluster that
 * is safe in a file or group name: CLUSTER_NAME, or a cluster on every credential line, or the client certificate's.
 */
export function checkEveryCallerHasACluster(reader: SettingsReader, pipeline: PipelineConfig, { setting, clusterSetting }: ClusterTemplateSetting): void {
  if (pipeline.cluster !== undefined) {
    if (!isClusterName(pipeline.cluster)) reader.problem('CLUSTER_NAME', `must be letters, digits, '.', '_' or '-' when ${setting} has {cluster}`);
    return;
  }
  if (pipeline.clientCertCluster !== undefined) return;
  const { auth } = pipeline;
  const unnamed = auth.mode === 'none' ? 1 : [...auth.tokens, ...auth.basic].filter((credential) => credential.cluster === undefined).length;
  if (unnamed > 0) {
    reader.problem(
      setting,
      `has {cluster}, but ${auth.mode === 'none' ? 'callers are not authenticated' : `${unnamed} credential line(s) name no cluster`} and ${clusterSetting} is not set: name the cluster on every line (\`<token> <cluster>\`) or set ${clusterSetting.split(' ')[0]}`,
    );
  }
}
