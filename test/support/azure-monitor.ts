// Wiring for tests of the Azure sink: a managed identity stand-in published through the real environment variables,
// and a Logs Ingestion stand-in that accepts only the tokens it issued.
import { ManagedIdentityCredential } from '@azure/identity';
import { startLogsIngestionStandIn, MONITOR_RESOURCE, type LogsIngestionStandIn } from './logs-ingestion-standin.ts';
import { startManagedIdentityStandIn, type ManagedIdentityStandIn } from './managed-identity-standin.ts';

export const RULE_ID = 'dcr-0123456789abcdef0123456789abcdef';
export const STREAM = 'Custom-KubeAudit';

export interface AzureStandIns {
  readonly identity: ManagedIdentityStandIn;
  readonly ingestion: LogsIngestionStandIn;
  /** A real ManagedIdentityCredential, finding the stand-in through IDENTITY_ENDPOINT and IDENTITY_HEADER. */
  readonly credential: ManagedIdentityCredential;
  close(): Promise<void>;
}

/**
 * Starts both stand-ins and sets IDENTITY_ENDPOINT / IDENTITY_HEADER for this test process, as Azure Functions does.
 * RULE_ID declares `streams`; `rules` are further rules with the streams each alone declares.
 */
export async function startAzureStandIns(seed = 1, streams: readonly string[] = [STREAM], rules: Readonly<Record<string, readonly string[]>> = {}): Promise<AzureStandIns> {
  const identity = await startManagedIdentityStandIn();
  const ingestion = await startLogsIngestionStandIn({
    ruleId: RULE_ID,
    seed,
    streams,
    rules,
    acceptsToken: (token) => identity.issued(token, MONITOR_RESOURCE),
  });
  process.env.IDENTITY_ENDPOINT = identity.endpoint;
  process.env.IDENTITY_HEADER = identity.header;
  return {
    identity,
    ingestion,
    credential: new ManagedIdentityCredential(),
    close: async () => {
      delete process.env.IDENTITY_ENDPOINT;
      delete process.env.IDENTITY_HEADER;
      await Promise.all([identity.close(), ingestion.close()]);
    },
  };
}
