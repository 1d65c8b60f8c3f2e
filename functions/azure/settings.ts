import type { X509Certificate } from 'node:crypto';
import { type Env, type OutputsConfig, type PipelineConfig, readOutputsConfig, readTierBindings, readPipelineConfig, SettingsReader, type TierRouting } from '../../src/index.ts';
import { readCertificateAuthorities } from './client-certificate.ts';

/** The stream the template's data collection rule declares. */
export const DEFAULT_STREAM_NAME = 'Custom-KubeAudit';

/** The Azure Functions app's settings (app settings arrive as environment variables). */
export interface AzureSettings {
  /** LOGS_INGESTION_ENDPOINT: the data collection endpoint's logs ingestion URL, `https://...`. Required. */
  readonly endpoint: string;
  /** LOGS_DCR_IMMUTABLE_ID: the data collection rule's immutable id, `dcr-` and 32 hex digits. Required. */
  readonly ruleId: string;
  /** LOGS_STREAM_NAME: the rule's input stream. Default `Custom-KubeAudit`. */
  readonly streamName: string;
  /**
   * COLD_LOGS_STREAM_NAME: the rule's stream into the cold table (Basic or Auxiliary plan), for events the tier routing
   * sends to cold. Required when the routing can choose cold; default none.
   */
  readonly coldStreamName?: string;
  /**
   * COLD_LOGS_DCR_IMMUTABLE_ID: the immutable id of the rule that declares COLD_LOGS_STREAM_NAME, when it is not
   * LOGS_DCR_IMMUTABLE_ID (the template gives the cold table a rule of its own). Default LOGS_DCR_IMMUTABLE_ID.
   */
  readonly coldRuleId?: string;
  /** TIERS_PRESET, TIERS or TIERS_FILE: which tier each event goes to. Default none: every event to LOGS_STREAM_NAME. */
  readonly tiers?: TierRouting;
  /** AZURE_CLIENT_ID: client id of a user-assigned managed identity. Default: the app's system-assigned identity. */
  readonly clientId?: string;
  /**
   * CLIENT_CA_PEM: the CA certificate(s), PEM, that must have issued the client certificate App Service forwards in
   * X-ARR-ClientCert; with it, every POST needs such a certificate (the app must require client certificates). Default
   * none: the header is ignored. CLIENT_CERT_CLUSTER (CN or O) then names the cluster from the certificate.
   */
  readonly clientAuthorities?: readonly X509Certificate[];
  /** CLUSTER_NAME, auth (AUTH_TOKENS, usually a Key Vault reference), filter and redaction settings. */
  readonly pipeline: PipelineConfig;
  /**
   * OUTPUTS, BEST_EFFORT_OUTPUTS and the tier-bound HOT_OUTPUTS, COLD_OUTPUTS, ARCHIVE_OUTPUTS: where else to store
   * events, e.g. the archive container's URL (with a routing, the archive tier). Default none.
   */
  readonly outputs: OutputsConfig;
}

/** Settings that hold secrets and may be Key Vault references, which the platform resolves before the app starts. */
const SECRET_SETTINGS = ['AUTH_TOKENS', 'AUTH_TOKEN_FILE', 'AUTH_BASIC_FILE'];

/** Reads and checks every setting, throwing one ConfigError that names each variable at fault. */
export function readAzureSettings(env: Env): AzureSettings {
  const reader = new SettingsReader(env);
  const endpoint = reader.required('LOGS_INGESTION_ENDPOINT');
  if (endpoint !== '' && !isHttpsUrl(endpoint)) {
    reader.problem('LOGS_INGESTION_ENDPOINT', 'must be an https URL, the logsIngestion endpoint of the data collection endpoint or rule');
  }
  const ruleId = reader.required('LOGS_DCR_IMMUTABLE_ID');
  const coldRuleId = reader.string('COLD_LOGS_DCR_IMMUTABLE_ID');
  for (const [name, value] of [['LOGS_DCR_IMMUTABLE_ID', ruleId], ['COLD_LOGS_DCR_IMMUTABLE_ID', coldRuleId ?? '']] as const) {
    if (value !== '' && !/^dcr-[0-9a-f]{32}$/.test(value)) {
      reader.problem(name, 'must be the rule\'s immutable id, "dcr-" and 32 hex digits (az monitor data-collection rule show --query immutableId)');
    }
  }
  const streamName = reader.string('LOGS_STREAM_NAME') ?? DEFAULT_STREAM_NAME;
  const coldStreamName = reader.string('COLD_LOGS_STREAM_NAME');
  for (const [name, value] of [['LOGS_STREAM_NAME', streamName], ['COLD_LOGS_STREAM_NAME', coldStreamName]] as const) {
    if (value !== undefined && !/^Custom-[A-Za-z0-9_]{1,100}$/.test(value)) {
      reader.problem(name, 'must be a custom stream the rule declares, "Custom-" and letters, digits or underscores');
    }
  }
  if (coldRuleId !== undefined && coldStreamName === undefined) reader.problem('COLD_LOGS_DCR_IMMUTABLE_ID', 'is set without COLD_LOGS_STREAM_NAME, the stream it declares: set both or neither');
  for (const name of SECRET_SETTINGS) {
    if (reader.string(name)?.startsWith('@Microsoft.KeyVault(')) {
      reader.problem(name, "is a Key Vault reference the platform could not resolve; give the app's identity the Key Vault Secrets User role on the vault and check the secret URI");
    }
  }
  const clientId = reader.string('AZURE_CLIENT_ID');
  const clientAuthorities = readClientAuthorities(reader);
  const pipeline = readPipelineConfig(reader);
  const outputs = readOutputsConfig(reader, { own: true });
  const tiers = readTierBindings(reader, outputs, { alwaysStored: ['hot'], own: { cold: { setting: 'COLD_LOGS_STREAM_NAME', given: coldStreamName !== undefined } } });
  reader.finish();
  return {
    endpoint,
    ruleId,
    streamName,
    ...(coldStreamName ? { coldStreamName } : {}),
    ...(coldRuleId ? { coldRuleId } : {}),
    ...(tiers ? { tiers } : {}),
    ...(clientId ? { clientId } : {}),
    ...(clientAuthorities ? { clientAuthorities } : {}),
    pipeline,
    outputs,
  };
}

/** CLIENT_CA_PEM's certificates; CLIENT_CERT_CLUSTER without them is a problem (only verified certificates may name a cluster). */
function readClientAuthorities(reader: SettingsReader): X509Certificate[] | undefined {
  const pem = reader.string('CLIENT_CA_PEM');
  if (pem === undefined) {
    if (reader.string('CLIENT_CERT_CLUSTER') !== undefined) {
      reader.problem('CLIENT_CERT_CLUSTER', 'needs CLIENT_CA_PEM: App Service forwards client certificates without checking who issued them, so the relay checks them against that CA');
    }
    return undefined;
  }
  try {
    return readCertificateAuthorities(pem);
  } catch (error) {
    reader.problem('CLIENT_CA_PEM', `${(error as Error).message}: give the CA certificate(s) that issue the API servers' client certificates, in PEM`);
    return undefined;
  }
}

function isHttpsUrl(text: string): boolean {
  try {
    return new URL(text).protocol === 'https:';
  } catch {
    return false;
  }
}
