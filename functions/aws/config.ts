import { getParameter } from '@aws-lambda-powertools/parameters/ssm';
import { type Env, type PipelineConfig, readPipelineConfig, SettingsReader } from '../../src/config.ts';
import { checkEveryCallerHasACluster } from '../../src/every-caller-has-a-cluster.ts';
import { type OutputsConfig, readOutputsConfig } from '../../src/sinks/outputs.ts';
import { CLUSTER_PLACEHOLDER } from '../../src/sinks/per-cluster.ts';
import { readTierBindings } from '../../src/tiers/tier-config.ts';
import type { TierRouting } from '../../src/tiers/tier-rule.ts';

/** Lambda's synchronous invocation payload limit; API Gateway refuses larger requests before the relay sees them. */
export const LAMBDA_MAX_BODY_BYTES = 6 * 1024 * 1024;
/** CloudWatch Logs' largest event (message bytes + 26) since April 2025; 262144 before. */
export const CLOUDWATCH_MAX_EVENT_BYTES = 1_048_576;
export const DEFAULT_LOG_STREAM_PREFIX = 'kube-apiserver-audit-';
/**
 * How long fetched tokens stay cached. The pipeline reads them once per execution environment anyway; the cache only
 * keeps a rebuilt pipeline (after a failed first build) from fetching again.
 */
const TOKEN_CACHE_SECONDS = 24 * 60 * 60;

/** The Lambda handler's settings, read once per execution environment. */
export interface LambdaConfig {
  /**
   * LOG_GROUP_NAME: the CloudWatch Logs group to write to. Required; `/aws/eks/<cluster>/cluster` for EKS's layout, or
   * a template `/aws/eks/{cluster}/cluster` for a group per cluster (each must exist: the stack makes one per CLUSTERS
   * entry), which needs a cluster for every caller (on every token line, or CLUSTER_NAME).
   */
  readonly logGroupName: string;
  /**
   * LOG_STREAM_PREFIX: streams are `<prefix><cluster>-<32 hex>` (`<prefix><32 hex>` with no cluster), one per cluster
   * and execution environment. Default `kube-apiserver-audit-`; at most 226 characters, so the longest cluster name fits.
   */
  readonly logStreamPrefix: string;
  /** AUTH_TOKEN_PARAMETER: name of the SSM SecureString holding the accepted bearer token(s). Default: none. */
  readonly authTokenParameter?: string;
  /**
   * COLD_LOG_GROUP_NAME: the group (Infrequent Access class) for events the tier routing sends to cold. Required when
   * the routing can choose cold; default none.
   */
  readonly coldLogGroupName?: string;
  /** TIERS_PRESET, TIERS or TIERS_FILE: which tier each event goes to. Default none: every event to LOG_GROUP_NAME. */
  readonly tiers?: TierRouting;
  /** CLUSTER_NAME, MAX_BODY_BYTES (default 6291456), MAX_EVENT_BYTES (at most 1048576), SINK_TIMEOUT_MS, AUTH_*, REDACT_*, DROP_RULES*. */
  readonly pipeline: PipelineConfig;
  /**
   * OUTPUTS, BEST_EFFORT_OUTPUTS and the tier-bound HOT_OUTPUTS, COLD_OUTPUTS, ARCHIVE_OUTPUTS: where else to store
   * events, e.g. `s3://<archive bucket>/audit/` (with a routing, the archive tier). Default none.
   */
  readonly outputs: OutputsConfig;
}

/** Returns the parameter's decrypted value; rejects when it does not exist or cannot be read. */
export type ParameterReader = (name: string) => Promise<string>;

/** Powertools Parameters over the SDK's default configuration chain (AWS_ENDPOINT_URL_SSM applies), cached. */
export const readSecureString: ParameterReader = async (name) =>
  (await getParameter(name, { decrypt: true, maxAge: TOKEN_CACHE_SECONDS, throwOnMissing: true })) as string;

const LOG_GROUP_NAME = /^[\w\-/.#]{1,512}$/;
const STREAM_NAME_FORBIDDEN = /[:*]/;
/** CloudWatch Logs' longest group or stream name. */
const MAX_NAME = 512;
/** The longest cluster name a credential may carry (src/cluster-name.ts): what a `{cluster}` may become. */
const MAX_CLUSTER = 253;
/** The longest LOG_STREAM_PREFIX: the cluster, a dash and 32 hex digits follow it. */
const MAX_STREAM_PREFIX = MAX_NAME - MAX_CLUSTER - 1 - 32;

/**
 * Reads the environment and the token parameter it names, reporting every problem at once as a ConfigError that names
 * the variable. `readParameter` is the seam for the parameter store.
 */
export async function readLambdaConfig(env: Env, readParameter: ParameterReader = readSecureString): Promise<LambdaConfig> {
  const reader = new SettingsReader(env);
  const logGroupName = reader.required('LOG_GROUP_NAME');
  // A template's {cluster} may become a cluster name of up to 253 characters.
  const longestGroup = logGroupName.replaceAll(CLUSTER_PLACEHOLDER, 'c'.repeat(MAX_CLUSTER));
  if (logGroupName && (!LOG_GROUP_NAME.test(longestGroup) || longestGroup.length > MAX_NAME)) {
    reader.problem(
      'LOG_GROUP_NAME',
      `must be 1 to ${MAX_NAME} letters, digits or any of _ - / . #, and may hold {cluster} (then at most ${MAX_NAME - MAX_CLUSTER} characters besides it), e.g. /aws/eks/{cluster}/cluster`,
    );
  }
  const logStreamPrefix = reader.string('LOG_STREAM_PREFIX') ?? DEFAULT_LOG_STREAM_PREFIX;
  if (logStreamPrefix.length > MAX_STREAM_PREFIX || STREAM_NAME_FORBIDDEN.test(logStreamPrefix)) {
    reader.problem('LOG_STREAM_PREFIX', `must be at most ${MAX_STREAM_PREFIX} characters without : or * (the cluster, a dash and 32 hex digits follow it in the stream name)`);
  }

  const coldLogGroupName = reader.string('COLD_LOG_GROUP_NAME');
  if (coldLogGroupName !== undefined && !LOG_GROUP_NAME.test(coldLogGroupName)) {
    reader.problem('COLD_LOG_GROUP_NAME', 'must be 1 to 512 letters, digits or any of _ - / . #');
  }

  const authTokenParameter = reader.string('AUTH_TOKEN_PARAMETER');
  const tokens = authTokenParameter === undefined ? undefined : await readTokens(authTokenParameter, reader, readParameter);
  const pipeline = readPipelineConfig(reader, {
    maxBodyBytes: LAMBDA_MAX_BODY_BYTES,
    tokenSetting: 'AUTH_TOKEN_PARAMETER',
    ...(tokens ? { tokens } : {}),
  });
  if (pipeline.maxEventBytes > CLOUDWATCH_MAX_EVENT_BYTES) {
    reader.problem('MAX_EVENT_BYTES', `must be at most ${CLOUDWATCH_MAX_EVENT_BYTES}, CloudWatch Logs' largest event (message + 26 bytes); use 262144 for accounts with the older limit`);
  }
  if (logGroupName.includes(CLUSTER_PLACEHOLDER)) checkEveryCallerHasACluster(reader, pipeline, { setting: 'LOG_GROUP_NAME', clusterSetting: 'CLUSTER_NAME' });
  const outputs = readOutputsConfig(reader, { own: true });
  const tiers = readTierBindings(reader, outputs, { alwaysStored: ['hot'], own: { cold: { setting: 'COLD_LOG_GROUP_NAME', given: coldLogGroupName !== undefined } } });
  reader.finish();
  return Object.freeze({
    logGroupName,
    logStreamPrefix,
    ...(authTokenParameter === undefined ? {} : { authTokenParameter }),
    ...(coldLogGroupName === undefined ? {} : { coldLogGroupName }),
    ...(tiers === undefined ? {} : { tiers }),
    pipeline,
    outputs,
  });
}

/** The parameter's tokens, one per line or comma-separated (several allow rotation). */
async function readTokens(name: string, reader: SettingsReader, readParameter: ParameterReader): Promise<string[] | undefined> {
  try {
    const value = await readParameter(name);
    return value
      .split(/[,\n]/)
      .map((token) => token.trim())
      .filter((token) => token !== '');
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause : (error as Error);
    if (cause.name === 'ParameterNotFoundError' || cause.name === 'ParameterNotFound') {
      reader.problem('AUTH_TOKEN_PARAMETER', `SSM parameter ${JSON.stringify(name)} does not exist; create it as a SecureString holding the token(s), or fix the name`);
    } else {
      reader.problem('AUTH_TOKEN_PARAMETER', `cannot read SSM parameter ${JSON.stringify(name)} (${cause.name}); check the function's role allows ssm:GetParameter and kms:Decrypt on it`);
    }
    return undefined;
  }
}
