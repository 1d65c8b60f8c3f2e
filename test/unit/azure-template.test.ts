import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { DEFAULT_STREAM_NAME, readAzureSettings } from '../../functions/azure/settings.ts';
import { OutputName, parseStackOutputs } from '../../src/generate/stack-outputs.ts';
import { AKS_AUDIT_COLUMNS } from '../../src/sinks/aks-audit-row.ts';
import { parseExpression, typeOfId } from '../support/arm-template.ts';
import { EVERYTHING_ON, example, expand, template } from '../support/azure-deployment.ts';
import { KUBE_AUDIT_TABLE, kqlErrors } from '../support/kql.ts';
import { createTestPki } from '../support/tls.ts';

/** A CA certificate for CLIENT_CA_PEM. */
const pki = createTestPki();
after(() => rmSync(pki.dir, { recursive: true, force: true }));

const MONITORING_METRICS_PUBLISHER = '3913510d-42f4-4e42-8a64-420c390055eb';

/**
 * Each resource type the template may use, with the apiVersions looked up in the ARM template reference
 * (learn.microsoft.com/azure/templates/<provider>/<type>). A new type or version must be looked up and added here, so
 * a typo or a version that does not exist fails this test instead of the deployment.
 */
const API_VERSIONS: Record<string, readonly string[]> = {
  'Microsoft.Network/virtualNetworks': ['2023-11-01'],
  'Microsoft.Network/privateDnsZones': ['2020-06-01'],
  'Microsoft.Network/privateDnsZones/virtualNetworkLinks': ['2020-06-01'],
  'Microsoft.Network/privateEndpoints': ['2023-11-01'],
  'Microsoft.Network/privateEndpoints/privateDnsZoneGroups': ['2023-11-01'],
  'Microsoft.Storage/storageAccounts': ['2023-05-01'],
  'Microsoft.Storage/storageAccounts/blobServices/containers': ['2023-05-01'],
  'Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies': ['2023-05-01'],
  'Microsoft.Storage/storageAccounts/managementPolicies': ['2023-05-01'],
  'Microsoft.KeyVault/vaults': ['2023-07-01'],
  'Microsoft.KeyVault/vaults/secrets': ['2023-07-01'],
  'Microsoft.OperationalInsights/workspaces': ['2023-09-01'],
  // 2025-07-01 for the cold table: the Auxiliary plan needs 2023-01-01-preview or later (create-custom-table-auxiliary).
  'Microsoft.OperationalInsights/workspaces/tables': ['2022-10-01', '2025-07-01'],
  'Microsoft.OperationalInsights/workspaces/savedSearches': ['2020-08-01'],
  'Microsoft.Insights/dataCollectionEndpoints': ['2023-03-11'],
  'Microsoft.Insights/dataCollectionRules': ['2023-03-11'],
  'Microsoft.Insights/privateLinkScopes': ['2021-07-01-preview'],
  'Microsoft.Insights/privateLinkScopes/scopedResources': ['2021-07-01-preview'],
  'Microsoft.Insights/components': ['2020-02-02'],
  'Microsoft.Insights/diagnosticSettings': ['2021-05-01-preview'],
  'Microsoft.Insights/actionGroups': ['2023-01-01'],
  'Microsoft.Insights/scheduledQueryRules': ['2023-03-15-preview'],
  'Microsoft.Insights/workbooks': ['2023-06-01'],
  'Microsoft.Web/serverfarms': ['2024-04-01'],
  'Microsoft.Web/sites': ['2024-04-01'],
  'Microsoft.Authorization/roleAssignments': ['2022-04-01'],
};

/** Every object inside a value, with its path. */
function* objects(value: unknown, path = ''): Generator<[string, Record<string, unknown>]> {
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) yield* objects(item, `${path}[${index}]`);
  } else if (value !== null && typeof value === 'object') {
    yield [path, value as Record<string, unknown>];
    for (const [key, item] of Object.entries(value)) yield* objects(item, `${path}.${key}`);
  }
}

describe('infra/azure ARM template', () => {
  it('is valid JSON with the deployment template schema, and every expression parses', () => {
    assert.equal(template.$schema, 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#');
    assert.equal(example.$schema, 'https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#');
    let expressions = 0;
    const visit = (value: unknown): void => {
      if (typeof value === 'string' && value.startsWith('[') && !value.startsWith('[[')) {
        assert.ok(value.endsWith(']'), `unterminated expression ${value}`);
        parseExpression(value.slice(1, -1));
        expressions++;
      } else if (value !== null && typeof value === 'object') Object.values(value).forEach(visit);
    };
    visit(template);
    assert.ok(expressions > 100);
  });

  it('uses every parameter, declares every parameter and variable it reads, and the example sets only declared ones', () => {
    // Some variables are read only when an option is on: the union of the default and the everything-on deployment.
    const used = [expand(), expand(EVERYTHING_ON)].map(({ evaluator }) => evaluator.seen);
    for (const name of Object.keys(template.parameters)) assert.ok(used.some((seen) => seen.parametersUsed.has(name)), `parameter ${name} is never used`);
    for (const name of Object.keys(template.variables)) assert.ok(used.some((seen) => seen.variablesUsed.has(name)), `variable ${name} is never used`);
    for (const name of Object.keys(example.parameters)) assert.ok(template.parameters[name], `example sets undeclared parameter ${name}`);
    const required = Object.entries(template.parameters as Record<string, { defaultValue?: unknown }>).filter(([, p]) => !('defaultValue' in p)).map(([n]) => n);
    for (const name of required) assert.ok(example.parameters[name], `example lacks required parameter ${name}`);
    assert.ok(example.parameters.AUTH_TOKENS.reference?.keyVault, 'the example passes the token from a Key Vault, never in the file');
  });

  it('resolves every resourceId, dependsOn and reference to a resource the template declares', () => {
    const { evaluator, declared: resources } = expand();
    const declared = new Set(resources.map((resource) => resource.id));
    // Subnets are declared inside their virtual network.
    for (const network of resources.filter((r) => r.type === 'Microsoft.Network/virtualNetworks')) {
      for (const subnet of network.body.properties.subnets) declared.add(`${network.id}/subnets/${subnet.name}`);
    }
    for (const id of evaluator.seen.resourceIds) assert.ok(declared.has(id), `resourceId ${id} names no declared resource`);
    for (const id of evaluator.seen.references) assert.ok(declared.has(id), `reference ${id} names no declared resource`);
    for (const resource of resources) {
      for (const dependency of resource.body.dependsOn ?? []) assert.ok(declared.has(dependency), `${resource.name} depends on undeclared ${dependency}`);
    }
    assert.equal(resources.length, new Set(resources.map((r) => r.id)).size, 'two resources share an id');
  });

  it('uses only resource types and apiVersions checked against the ARM reference, and reads the same apiVersion it deploys', () => {
    const { declared } = expand({ alertEmailAddresses: ['oncall@example.com'] });
    for (const resource of declared) {
      assert.ok(API_VERSIONS[resource.type]?.includes(resource.body.apiVersion), `${resource.type}@${resource.body.apiVersion} is not in the checked list`);
    }
    for (const { evaluator } of [expand(), expand(EVERYTHING_ON)]) {
      for (const { id, apiVersion } of evaluator.seen.referenceApiVersions) {
        assert.ok(API_VERSIONS[typeOfId(id)]?.includes(apiVersion), `reference() reads ${typeOfId(id)} with apiVersion ${apiVersion}`);
      }
    }
  });

  it('lists in dependsOn every resource a resource reads with reference(), as ARM requires', () => {
    let checked = 0;
    for (const resource of [...expand().resources, ...expand(EVERYTHING_ON).resources]) {
      for (const id of resource.references) {
        assert.ok((resource.body.dependsOn ?? []).includes(id), `${resource.name} reads ${id} without depending on it`);
        checked++;
      }
    }
    assert.ok(checked > 0);
  });

  it('lets nothing accept traffic from public networks', () => {
    const { resources } = expand();
    // Every option on adds the archive account, which must be as closed.
    for (const resource of [...resources, ...expand(EVERYTHING_ON).resources]) {
      for (const [path, object] of objects(resource.body.properties, resource.name)) {
        for (const [key, value] of Object.entries(object)) {
          if (/^publicNetworkAccess/.test(key)) assert.equal(value, 'Disabled', `${path}.${key}`);
          if (key === 'defaultAction') assert.equal(value, 'Deny', `${path}.${key}`);
          if (key === 'allowBlobPublicAccess') assert.equal(value, false, `${path}.${key}`);
          if (/AccessMode$/.test(key)) assert.equal(value, 'PrivateOnly', `${path}.${key}`);
        }
      }
    }
    const mustSay: Record<string, (properties: any) => unknown[]> = {
      'Microsoft.Web/sites': (p) => [p.publicNetworkAccess],
      'Microsoft.Storage/storageAccounts': (p) => [p.publicNetworkAccess],
      'Microsoft.KeyVault/vaults': (p) => [p.publicNetworkAccess],
      'Microsoft.OperationalInsights/workspaces': (p) => [p.publicNetworkAccessForIngestion, p.publicNetworkAccessForQuery],
      'Microsoft.Insights/dataCollectionEndpoints': (p) => [p.networkAcls.publicNetworkAccess],
      'Microsoft.Insights/components': (p) => [p.publicNetworkAccessForIngestion, p.publicNetworkAccessForQuery],
    };
    for (const [type, settings] of Object.entries(mustSay)) {
      const ofType = resources.filter((r) => r.type === type);
      assert.equal(ofType.length, 1, type);
      assert.deepEqual(settings(ofType[0]!.body.properties).filter((s) => s !== 'Disabled'), [], `${type} must disable public network access`);
    }
    // Each of them is reached through a private endpoint instead.
    const targets = resources.filter((r) => r.type === 'Microsoft.Network/privateEndpoints').map((r) => r.body.properties.privateLinkServiceConnections[0].properties);
    const site = resources.find((r) => r.type === 'Microsoft.Web/sites')!;
    assert.ok(targets.some((t) => t.privateLinkServiceId === site.id && t.groupIds[0] === 'sites'));
    for (const type of ['Microsoft.Storage/storageAccounts', 'Microsoft.KeyVault/vaults', 'Microsoft.Insights/privateLinkScopes']) {
      assert.ok(targets.some((t) => t.privateLinkServiceId === resources.find((r) => r.type === type)!.id), `no private endpoint for ${type}`);
    }
  });

  it('runs on Flex Consumption with an inbound private endpoint in privatelink.azurewebsites.net, linked to the VNets', () => {
    const { resources } = expand();
    const plan = resources.find((r) => r.type === 'Microsoft.Web/serverfarms')!;
    assert.deepEqual(plan.body.sku, { name: 'FC1', tier: 'FlexConsumption' });
    const site = resources.find((r) => r.type === 'Microsoft.Web/sites')!;
    assert.deepEqual(site.body.properties.functionAppConfig.runtime, { name: 'node', version: '22' }, 'Node 20 ended in April 2026');
    assert.equal(site.body.properties.serverFarmId, plan.id);
    const zone = resources.find((r) => r.type === 'Microsoft.Network/privateDnsZones' && r.name === 'privatelink.azurewebsites.net')!;
    const groups = resources.filter((r) => r.type === 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups');
    assert.ok(groups.some((g) => g.body.properties.privateDnsZoneConfigs.some((c: any) => c.properties.privateDnsZoneId === zone.id)));
    const links = resources.filter((r) => r.type === 'Microsoft.Network/privateDnsZones/virtualNetworkLinks' && r.name.startsWith('privatelink.azurewebsites.net/'));
    const linked = links.map((l) => l.body.properties.virtualNetwork.id);
    const vnet = resources.find((r) => r.type === 'Microsoft.Network/virtualNetworks')!;
    assert.deepEqual(linked.sort(), [vnet.id, ...example.parameters.dnsLinkedVnetIds.value].sort());
    const integration = vnet.body.properties.subnets.find((s: any) => `${vnet.id}/subnets/${s.name}` === site.body.properties.virtualNetworkSubnetId);
    assert.equal(integration.properties.delegations[0].properties.serviceName, 'Microsoft.App/environments');
  });

  it('lets the platform write a published package into the locked storage account with the app identity, through the VNet', () => {
    const { resources } = expand();
    const site = resources.find((r) => r.type === 'Microsoft.Web/sites')!;
    const account = resources.find((r) => r.type === 'Microsoft.Storage/storageAccounts')!;
    const deployment = site.body.properties.functionAppConfig.deployment.storage;
    // The package goes to a container of this account, with the app's own identity (no keys: shared keys are off).
    assert.deepEqual(deployment.authentication, { type: 'SystemAssignedIdentity' });
    assert.equal(account.body.properties.allowSharedKeyAccess, false);
    const container = resources.find((r) => r.type === 'Microsoft.Storage/storageAccounts/blobServices/containers')!;
    assert.equal(String(deployment.value), `<reference(${account.id}).primaryEndpoints.blob>${container.name.split('/').at(-1)}`);
    const owner = resources.find((r) => r.type === 'Microsoft.Authorization/roleAssignments' && r.body.scope === account.id)!;
    assert.ok(owner.body.properties.roleDefinitionId.endsWith('/b7e6dc6d-f1e8-4753-8033-0f276bb0955b'), 'Storage Blob Data Owner');
    // The write leaves through the app's VNet integration and reaches the account's blob private endpoint by its zone.
    assert.equal(site.body.properties.vnetRouteAllEnabled, true);
    const blob = resources.find((r) => r.type === 'Microsoft.Network/privateEndpoints' && r.body.properties.privateLinkServiceConnections[0].properties.privateLinkServiceId === account.id)!;
    assert.deepEqual(blob.body.properties.privateLinkServiceConnections[0].properties.groupIds, ['blob']);
    const zone = resources.find((r) => r.type === 'Microsoft.Network/privateDnsZones' && r.name === 'privatelink.blob.core.windows.net')!;
    const vnet = resources.find((r) => r.type === 'Microsoft.Network/virtualNetworks')!;
    assert.ok(resources.some((r) => r.type === 'Microsoft.Network/privateDnsZones/virtualNetworkLinks' && r.name.startsWith(`${zone.name}/`) && r.body.properties.virtualNetwork.id === vnet.id));
    // The publisher reaches <app>.scm.azurewebsites.net through the app's own private endpoint and zone, so from inside the network only.
    assert.equal(site.body.properties.publicNetworkAccess, 'Disabled');
  });

  it('gives the function identity Monitoring Metrics Publisher scoped to the data collection rule and Application Insights, and nothing broader', () => {
    const { resources } = expand();
    const site = resources.find((r) => r.type === 'Microsoft.Web/sites')!;
    const rule = resources.find((r) => r.type === 'Microsoft.Insights/dataCollectionRules')!;
    const insights = resources.find((r) => r.type === 'Microsoft.Insights/components')!;
    const assignments = resources.filter((r) => r.type === 'Microsoft.Authorization/roleAssignments');
    const publisher = assignments.filter((a) => a.body.properties.roleDefinitionId.endsWith(`/roleDefinitions/${MONITORING_METRICS_PUBLISHER}`));
    assert.deepEqual(publisher.map((a) => a.body.scope).sort(), [rule.id, insights.id].sort());
    for (const assignment of publisher) assert.equal(String(assignment.body.properties.principalId), `<reference(${site.id}).identity.principalId>`);
    const scopes = new Set(resources.filter((r) => !r.type.startsWith('Microsoft.Authorization/')).map((r) => r.id));
    for (const assignment of assignments) assert.ok(scopes.has(assignment.body.scope), `role assignment scoped to ${assignment.body.scope}, not a resource`);
  });

  it('declares the AKSAudit columns in the table and the rule, and routes the stream the function writes to the table', () => {
    const { resources } = expand();
    const table = resources.find((r) => r.type === 'Microsoft.OperationalInsights/workspaces/tables')!;
    const rule = resources.find((r) => r.type === 'Microsoft.Insights/dataCollectionRules')!.body.properties;
    const columns = AKS_AUDIT_COLUMNS.map(({ name, type }) => ({ name, type }));
    assert.deepEqual(table.body.properties.schema.columns, columns);
    assert.deepEqual(rule.streamDeclarations[DEFAULT_STREAM_NAME].columns, columns);
    assert.deepEqual(rule.dataFlows, [{ streams: [DEFAULT_STREAM_NAME], destinations: ['workspace'], transformKql: 'source', outputStream: `Custom-${table.body.properties.schema.name}` }]);
    assert.match(table.body.properties.schema.name, /_CL$/);
    assert.equal(rule.dataCollectionEndpointId, resources.find((r) => r.type === 'Microsoft.Insights/dataCollectionEndpoints')!.id);
  });

  it('configures the app with settings the handler accepts, the token only as a Key Vault reference', () => {
    const { resources } = expand();
    const site = resources.find((r) => r.type === 'Microsoft.Web/sites')!;
    const settings = Object.fromEntries(site.body.properties.siteConfig.appSettings.map((s: any) => [s.name, String(s.value)]));
    assert.equal(settings.FUNCTIONS_WORKER_RUNTIME, undefined, 'Flex Consumption refuses FUNCTIONS_WORKER_RUNTIME');
    const secret = resources.find((r) => r.type === 'Microsoft.KeyVault/vaults/secrets')!;
    assert.equal(settings.AUTH_TOKENS, `@Microsoft.KeyVault(SecretUri=<reference(${secret.id}).secretUri>)`);
    assert.equal(site.body.properties.keyVaultReferenceIdentity, 'SystemAssigned');
    // What the platform hands the function once it resolved the references and runtime values.
    const resolved = {
      ...settings,
      LOGS_INGESTION_ENDPOINT: 'https://kar-dce-x.westeurope-1.ingest.monitor.azure.com',
      LOGS_DCR_IMMUTABLE_ID: 'dcr-0123456789abcdef0123456789abcdef',
      AUTH_TOKENS: '0123456789abcdef0123456789abcdef',
    };
    assert.match(settings.LOGS_INGESTION_ENDPOINT!, /logsIngestion\.endpoint/);
    assert.match(settings.LOGS_DCR_IMMUTABLE_ID!, /immutableId/);
    const config = readAzureSettings(resolved);
    assert.equal(config.streamName, DEFAULT_STREAM_NAME);
    assert.equal(config.pipeline.cluster, example.parameters.CLUSTER_NAME.value);
    assert.equal(config.pipeline.dropRules.length, 1);
  });

  it('requires client certificates on the app only with CLIENT_CA_PEM, excluding the health paths, and hands the handler both settings', () => {
    const site = (parameters: Record<string, unknown> = {}) => expand(parameters).resources.find((r) => r.type === 'Microsoft.Web/sites')!.body.properties;
    assert.equal(site().clientCertEnabled, false);
    const ca = pki.read(pki.caCert);
    const withCa = site({ CLIENT_CA_PEM: ca, CLIENT_CERT_CLUSTER: 'CN' });
    assert.deepEqual([withCa.clientCertEnabled, withCa.clientCertMode, withCa.clientCertExclusionPaths], [true, 'Required', '/healthz;/livez;/readyz']);
    const settings = Object.fromEntries(withCa.siteConfig.appSettings.map((s: any) => [s.name, String(s.value)]));
    const config = readAzureSettings({ ...settings, LOGS_INGESTION_ENDPOINT: 'https://kar-dce-x.westeurope-1.ingest.monitor.azure.com', LOGS_DCR_IMMUTABLE_ID: 'dcr-0123456789abcdef0123456789abcdef', AUTH_TOKENS: '0123456789abcdef0123456789abcdef' });
    assert.equal(config.clientAuthorities?.length, 1);
    assert.equal(config.pipeline.clientCertCluster, 'CN');
  });

  it('saves the audit questions as KQL over the table, naming only its columns', () => {
    const { resources } = expand();
    const searches = resources.filter((r) => r.type === 'Microsoft.OperationalInsights/workspaces/savedSearches');
    const table = resources.find((r) => r.type === 'Microsoft.OperationalInsights/workspaces/tables')!.body.properties.schema.name;
    const names = searches.map((s) => s.name.split('/')[1]);
    assert.deepEqual(names, [
      'kube-audit-relay-rbac-changes', 'kube-audit-relay-secret-access', 'kube-audit-relay-exec-attach-port-forward',
      'kube-audit-relay-anonymous-or-failed-auth', 'kube-audit-relay-forbidden-by-user', 'kube-audit-relay-kube-system-deletes',
      'kube-audit-relay-server-errors', 'kube-audit-relay-most-active-users',
    ]);
    for (const search of searches) {
      const query: string = search.body.properties.query;
      assert.ok(query.startsWith(`${table}\n`), `${search.name} does not query ${table}`);
      assert.deepEqual(kqlErrors(query, [KUBE_AUDIT_TABLE]), [], search.name);
      assert.equal(search.body.properties.category, 'kube-audit-relay');
    }
  });

  it('outputs the private webhook URL for the kubeconfig, on the app host the private DNS zone resolves', () => {
    const { resources, outputs } = expand();
    const site = resources.find((r) => r.type === 'Microsoft.Web/sites')!;
    assert.equal(String(outputs[OutputName.AzureUrl]!.value), `https://<reference(${site.id}).defaultHostName>/audit`);
    assert.ok(template.outputs[OutputName.AzureUrl].metadata.description.includes('private endpoint'));
    // `kube-audit-relay kubeconfig --from-stack` reads it from `az deployment group show`.
    const shown = { properties: { outputs: { [OutputName.AzureUrl]: { type: 'String', value: 'https://kar-func-x.azurewebsites.net/audit' } } } };
    assert.equal(parseStackOutputs(JSON.stringify(shown)).url, 'https://kar-func-x.azurewebsites.net/audit');
    for (const name of ['logsIngestionEndpoint', 'dcrImmutableId', 'functionAppName', 'workspaceName']) assert.ok(outputs[name], `output ${name} missing`);
  });
});
