// Several clusters on one Azure Function: each accepted credential names its cluster, and every event lands in the
// Logs Ingestion stand-in with that cluster in the Cluster column (and annotation), whatever cluster it claimed. With
// CLIENT_CA_PEM, the certificate App Service's front end forwards in X-ARR-ClientCert names the cluster once it is
// shown to come from that CA. Real HttpRequest objects, the real handler and LogsIngestionClient.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { X509Certificate } from 'node:crypto';
import { rmSync } from 'node:fs';
import functions from '@azure/functions';
import { BATCH_LOG_PREFIX, type BatchLogLine } from '../../functions/azure/batch-log.ts';
import { createReceiveHandler } from '../../functions/azure/handler.ts';
import { Annotation } from '../../src/audit/annotations.ts';
import type { Env } from '../../src/config.ts';
import { type AzureStandIns, RULE_ID, startAzureStandIns } from '../support/azure-monitor.ts';
import { plainLines } from '../support/event-lists.ts';
import { createTestPki, type TestPki } from '../support/tls.ts';
import { webhookRequest } from '../support/function-request.ts';

const { InvocationContext } = functions;
const PROD = '5b4a3c2d1e0f98877665544332211000';
const STAGING = '0011223344556677889900aabbccddee';
const LEGACY = 'ffeeddccbbaa99887766554433221100';

/** `count` fixture events from `from`, each with its own auditID and claiming to come from `claimed`. */
function claiming(from: number, count: number, claimed: string): string[] {
  return plainLines()
    .slice(from, from + count)
    .map((line, index) => {
      const event = JSON.parse(line) as { auditID: string; annotations?: Record<string, string> };
      return JSON.stringify({ ...event, auditID: `fleet-${from + index}`, annotations: { ...event.annotations, [Annotation.Cluster]: claimed } });
    });
}

/** The base64 DER of a PEM certificate: what App Service's front end puts in X-ARR-ClientCert. */
const forwarded = (pem: string): string => new X509Certificate(pem).raw.toString('base64');

describe('azure function for a fleet: the Cluster column comes from the credential', () => {
  let azure: AzureStandIns;
  let pki: TestPki;
  before(async () => {
    azure = await startAzureStandIns(23);
    pki = createTestPki();
  });
  after(async () => {
    await azure.close();
    rmSync(pki.dir, { recursive: true, force: true });
  });

  const handler = (extra: Env) =>
    createReceiveHandler({
      env: { LOGS_INGESTION_ENDPOINT: azure.ingestion.endpoint, LOGS_DCR_IMMUTABLE_ID: RULE_ID, REDACT_SECRETS: 'false', ...extra },
      clientOptions: { tlsOptions: { ca: azure.ingestion.ca } },
    });

  /** One webhook POST as the front end hands it to the app; returns the status, the answer and the one batch line. */
  async function post(receive: ReturnType<typeof handler>, lines: readonly string[], headers: Record<string, string>) {
    const logs: string[] = [];
    const context = new InvocationContext({ functionName: 'receive', logHandler: (_level, ...args) => logs.push(args.join(' ')) });
    const request = webhookRequest(lines, headers);
    const response = await receive(request, context);
    assert.equal(logs.length, 1, logs.join('\n'));
    assert.ok(logs[0]!.startsWith(BATCH_LOG_PREFIX));
    const body = typeof response.body === 'string' ? JSON.parse(response.body) : response.jsonBody;
    return { status: response.status, body: body as { message: string; spoofed?: number }, line: JSON.parse(logs[0]!) as BatchLogLine };
  }

  /** Cluster column and annotation of the rows stored since `from`, by AuditId. */
  const storedClusters = (from: number) =>
    Object.fromEntries(azure.ingestion.rows().slice(from).map((row) => [row.AuditId, [row.Cluster, (row.Annotations as Record<string, string>)[Annotation.Cluster]]]));

  it("stores each token's events with its cluster in the Cluster column, whatever they claimed; an unknown token gets 401", async () => {
    // arrange
    const receive = handler({ AUTH_TOKENS: `${PROD} prod-eu-1,${STAGING} staging,${LEGACY}`, CLUSTER_NAME: 'default-cluster' });
    const from = azure.ingestion.rows().length;

    // act
    const prod = await post(receive, claiming(0, 3, 'staging'), { authorization: `Bearer ${PROD}` });
    const staging = await post(receive, claiming(3, 2, 'prod-eu-1'), { authorization: `Bearer ${STAGING}` });
    const legacy = await post(receive, claiming(5, 1, 'prod-eu-1'), { authorization: `Bearer ${LEGACY}` });
    const unknown = await post(receive, claiming(6, 1, 'prod-eu-1'), { authorization: 'Bearer third-cluster-token-00000000' });

    // assert
    assert.deepEqual([prod.status, staging.status, legacy.status, unknown.status], [200, 200, 200, 401]);
    assert.deepEqual(storedClusters(from), {
      'fleet-0': ['prod-eu-1', 'prod-eu-1'],
      'fleet-1': ['prod-eu-1', 'prod-eu-1'],
      'fleet-2': ['prod-eu-1', 'prod-eu-1'],
      'fleet-3': ['staging', 'staging'],
      'fleet-4': ['staging', 'staging'],
      'fleet-5': ['default-cluster', 'default-cluster'],
    });
    assert.deepEqual([prod.body.spoofed, staging.body.spoofed, legacy.body.spoofed], [3, 2, 1]);
    // The batch lines the failed-batches alert splits by cluster; a refused caller has none.
    assert.deepEqual([prod.line.cluster, staging.line.cluster, legacy.line.cluster, unknown.line.cluster], ['prod-eu-1', 'staging', 'default-cluster', undefined]);
  });

  it('takes the cluster from the forwarded client certificate signed by CLIENT_CA_PEM, and refuses others with 401', async () => {
    // arrange: certificates name the cluster by CN; a token line naming no cluster still authenticates
    const receive = handler({ AUTH_TOKENS: LEGACY, CLIENT_CERT_CLUSTER: 'CN', CLIENT_CA_PEM: pki.read(pki.caCert) });
    const from = azure.ingestion.rows().length;
    const token = { authorization: `Bearer ${LEGACY}` };

    // act
    const signed = await post(receive, claiming(10, 2, 'prod-eu-1'), { ...token, 'x-arr-clientcert': forwarded(pki.read(pki.clientCert)) });
    const stranger = await post(receive, claiming(12, 1, 'prod-eu-1'), { ...token, 'x-arr-clientcert': forwarded(pki.read(pki.strangerCert)) });
    const missing = await post(receive, claiming(13, 1, 'prod-eu-1'), token);
    const garbage = await post(receive, claiming(14, 1, 'prod-eu-1'), { ...token, 'x-arr-clientcert': 'bm90IGEgY2VydGlmaWNhdGU=' });

    // assert
    assert.deepEqual([signed.status, stranger.status, missing.status, garbage.status], [200, 401, 401, 401]);
    assert.deepEqual(storedClusters(from), { 'fleet-10': ['kube-apiserver-audit', 'kube-apiserver-audit'], 'fleet-11': ['kube-apiserver-audit', 'kube-apiserver-audit'] });
    assert.match(stranger.body.message, /not signed by a CA in CLIENT_CA_PEM/);
    assert.match(missing.body.message, /^no client certificate: .*clientCertMode Required/);
    assert.match(garbage.body.message, /not a base64 DER certificate/);
    assert.equal(signed.line.cluster, 'kube-apiserver-audit');
  });

  it('refuses to start with CLIENT_CERT_CLUSTER but no CLIENT_CA_PEM, or a CLIENT_CA_PEM that holds no certificate', async () => {
    // act
    const without = await post(handler({ AUTH_TOKENS: LEGACY, CLIENT_CERT_CLUSTER: 'CN' }), claiming(20, 1, 'x'), { authorization: `Bearer ${LEGACY}` });
    const bad = await post(handler({ AUTH_TOKENS: LEGACY, CLIENT_CA_PEM: 'not a certificate' }), claiming(20, 1, 'x'), { authorization: `Bearer ${LEGACY}` });

    // assert
    assert.deepEqual([without.status, bad.status], [500, 500]);
    assert.match(without.body.message, /CLIENT_CERT_CLUSTER: needs CLIENT_CA_PEM/);
    assert.match(bad.body.message, /CLIENT_CA_PEM: holds no PEM certificate/);
    assert.ok(!bad.body.message.includes('not a certificate'), 'the setting is never quoted');
  });
});
