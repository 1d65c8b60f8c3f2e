// The environment a deployed handler sees, pointed at local stand-ins through the SDK's standard variables.

/**
 * Variables the handler reads (its configuration, its outputs' credentials and endpoints); `useEnvironment` clears
 * every one not given so tests do not leak into each other. test/unit/aws-config.test.ts holds it to what is read.
 */
export const HANDLER_VARIABLES = [
  'LOG_GROUP_NAME',
  'LOG_STREAM_PREFIX',
  'CLUSTER_NAME',
  'CLIENT_CERT_CLUSTER',
  'MAX_BODY_BYTES',
  'MAX_EVENT_BYTES',
  'SINK_TIMEOUT_MS',
  'AUTH_MODE',
  'AUTH_TOKENS',
  'AUTH_TOKEN_FILE',
  'AUTH_BASIC_FILE',
  'AUTH_TOKEN_PARAMETER',
  'REDACT_SECRETS',
  'REDACT_PATHS',
  'DROP_RULES',
  'DROP_RULES_FILE',
  'OUTPUTS',
  'BEST_EFFORT_OUTPUTS',
  'HOT_OUTPUTS',
  'COLD_OUTPUTS',
  'ARCHIVE_OUTPUTS',
  'BEST_EFFORT_QUEUE_BYTES',
  'DEDUPE_CAPACITY',
  'FORWARD_TOKEN_FILE',
  'FORWARD_CLIENT_CERT_FILE',
  'FORWARD_CLIENT_KEY_FILE',
  'FORWARD_CA_FILE',
  'AWS_ENDPOINT_URL',
  'AWS_ENDPOINT_URL_S3',
  'AZURE_STORAGE_KEY',
  'COLD_LOG_GROUP_NAME',
  'TIERS_PRESET',
  'TIERS',
  'TIERS_FILE',
] as const;

export interface StandInEndpoints {
  readonly cloudWatchLogs: string;
  readonly ssm: string;
}

/**
 * Sets process.env as Lambda would for this function: fake credentials, region, the stand-ins' endpoints via
 * AWS_ENDPOINT_URL_CLOUDWATCH_LOGS / AWS_ENDPOINT_URL_SSM, Powertools' names, and the handler's own variables.
 */
export function useEnvironment(endpoints: StandInEndpoints, variables: Partial<Record<(typeof HANDLER_VARIABLES)[number], string>>): void {
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'AKIDSTANDIN',
    AWS_SECRET_ACCESS_KEY: 'stand-in-secret',
    AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: endpoints.cloudWatchLogs,
    AWS_ENDPOINT_URL_SSM: endpoints.ssm,
    AWS_LAMBDA_FUNCTION_NAME: 'kube-audit-relay-prod-receive',
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    POWERTOOLS_SERVICE_NAME: 'kube-audit-relay',
    POWERTOOLS_METRICS_NAMESPACE: 'KubeAuditRelay',
  });
  for (const name of HANDLER_VARIABLES) {
    const value = variables[name];
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
}
