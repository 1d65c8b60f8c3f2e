// The template's optional archive (issue 15): a storage account of its own with the container, its lifecycle policy,
// an optional immutability policy, a blob private endpoint, the function's role on the container alone, and OUTPUTS.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readAzureSettings } from '../../functions/azure/settings.ts';
import { appSettings, expand } from '../support/azure-deployment.ts';

const STORAGE_BLOB_DATA_CONTRIBUTOR = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe';
const ARCHIVE = { archiveContainer: 'create' };

type Resources = ReturnType<typeof expand>['resources'];
const ofType = (resources: Resources, type: string) => resources.filter((r) => r.type === type);
const archiveAccount = (resources: Resources) => ofType(resources, 'Microsoft.Storage/storageAccounts').find((r) => r.name.includes('arc'));
const lifecycle = (resources: Resources) => ofType(resources, 'Microsoft.Storage/storageAccounts/managementPolicies')[0];

describe('infra/azure ARM template: the archive container', () => {
  it('adds no archive by default, and the app has no OUTPUTS', () => {
    const { resources, outputs } = expand();
    assert.equal(archiveAccount(resources), undefined);
    assert.equal(ofType(resources, 'Microsoft.Storage/storageAccounts/blobServices/containers').length, 1, 'only the deployment package container');
    assert.equal(appSettings(resources).OUTPUTS, '');
    assert.equal(outputs.archiveContainerUrl!.value, '');
  });

  it("puts the container in an account of its own, as closed as the function's, reached through its own blob private endpoint", () => {
    const { resources } = expand(ARCHIVE);
    const account = archiveAccount(resources)!;
    const own = ofType(resources, 'Microsoft.Storage/storageAccounts').find((r) => r !== account)!;
    assert.notEqual(account.name, own.name);
    assert.ok(account.name.length >= 3 && account.name.length <= 24 && /^[a-z0-9]+$/.test(account.name), account.name);
    assert.deepEqual(account.body.sku, { name: 'Standard_GRS' });
    const p = account.body.properties;
    assert.deepEqual(
      [p.publicNetworkAccess, p.allowBlobPublicAccess, p.allowSharedKeyAccess, p.allowCrossTenantReplication, p.minimumTlsVersion, p.supportsHttpsTrafficOnly, p.networkAcls.defaultAction],
      ['Disabled', false, false, false, 'TLS1_2', true, 'Deny'],
    );
    const container = ofType(resources, 'Microsoft.Storage/storageAccounts/blobServices/containers').find((c) => c.name.startsWith(`${account.name}/`))!;
    assert.equal(container.name, `${account.name}/default/kube-audit-archive`);
    assert.equal(container.body.properties.publicAccess, 'None');
    const endpoint = ofType(resources, 'Microsoft.Network/privateEndpoints').find((e) => e.body.properties.privateLinkServiceConnections[0].properties.privateLinkServiceId === account.id)!;
    assert.deepEqual(endpoint.body.properties.privateLinkServiceConnections[0].properties.groupIds, ['blob']);
    const group = ofType(resources, 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups').find((g) => g.name === `${endpoint.name}/default`)!;
    const zone = ofType(resources, 'Microsoft.Network/privateDnsZones').find((z) => z.name === 'privatelink.blob.core.windows.net')!;
    assert.deepEqual(group.body.properties.privateDnsZoneConfigs.map((c: any) => c.properties.privateDnsZoneId), [zone.id]);
  });

  it('grants the function Storage Blob Data Contributor on the container alone, and points OUTPUTS at it', () => {
    const { resources, outputs } = expand(ARCHIVE);
    const site = ofType(resources, 'Microsoft.Web/sites')[0]!;
    const account = archiveAccount(resources)!;
    const container = ofType(resources, 'Microsoft.Storage/storageAccounts/blobServices/containers').find((c) => c.name.startsWith(`${account.name}/`))!;
    const onArchive = ofType(resources, 'Microsoft.Authorization/roleAssignments').filter((a) => a.body.scope.startsWith(account.id));
    assert.equal(onArchive.length, 1, 'one role on the archive account, at the container');
    assert.equal(onArchive[0]!.body.scope, container.id);
    assert.ok(onArchive[0]!.body.properties.roleDefinitionId.endsWith(`/roleDefinitions/${STORAGE_BLOB_DATA_CONTRIBUTOR}`));
    assert.equal(String(onArchive[0]!.body.properties.principalId), `<reference(${site.id}).identity.principalId>`);

    const settings = appSettings(resources);
    assert.equal(settings.OUTPUTS, `<reference(${account.id}).primaryEndpoints.blob>kube-audit-archive/`);
    assert.equal(String(outputs.archiveContainerUrl!.value), settings.OUTPUTS);
    assert.ok(site.body.dependsOn.includes(container.id), 'the app starts once its archive exists');
    // What the function reads once the platform resolved the account's endpoint.
    const config = readAzureSettings({
      ...settings,
      LOGS_INGESTION_ENDPOINT: 'https://kar-dce-x.westeurope-1.ingest.monitor.azure.com',
      LOGS_DCR_IMMUTABLE_ID: 'dcr-0123456789abcdef0123456789abcdef',
      AUTH_TOKENS: '0123456789abcdef0123456789abcdef',
      OUTPUTS: `https://${account.name}.blob.core.windows.net/kube-audit-archive/`,
    });
    assert.deepEqual(config.outputs.guaranteed, [{ kind: 'azure-blob', containerUrl: `https://${account.name}.blob.core.windows.net/kube-audit-archive`, account: account.name, prefix: '' }]);
  });

  it('moves blobs to Cool, Cold and Archive and deletes them on the days given, each 0 skipping its step', () => {
    const rule = lifecycle(expand(ARCHIVE).resources)!.body.properties.policy.rules[0];
    assert.deepEqual(rule.definition.filters, { blobTypes: ['blockBlob'], prefixMatch: ['kube-audit-archive/'] });
    assert.deepEqual(rule.definition.actions.baseBlob, {
      tierToCool: { daysAfterCreationGreaterThan: 30 },
      tierToCold: { daysAfterCreationGreaterThan: 90 },
      tierToArchive: { daysAfterCreationGreaterThan: 180 },
      delete: { daysAfterCreationGreaterThan: 2557 },
    });
    const skipped = lifecycle(expand({ ...ARCHIVE, archiveColdAfterDays: 0, archiveArchiveAfterDays: 365, archiveDeleteAfterDays: 0 }).resources)!;
    assert.deepEqual(skipped.body.properties.policy.rules[0].definition.actions.baseBlob, {
      tierToCool: { daysAfterCreationGreaterThan: 30 },
      tierToArchive: { daysAfterCreationGreaterThan: 365 },
    });
    const none = { ...ARCHIVE, archiveCoolAfterDays: 0, archiveColdAfterDays: 0, archiveArchiveAfterDays: 0, archiveDeleteAfterDays: 0 };
    assert.equal(lifecycle(expand(none).resources), undefined, 'no policy with no step: an empty rule is refused');
  });

  it('adds a time-based retention policy, unlocked, only when archiveImmutabilityDays is set', () => {
    const policies = (overrides: Record<string, unknown>) => ofType(expand(overrides).resources, 'Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies');
    assert.deepEqual(policies(ARCHIVE), []);
    const [policy] = policies({ ...ARCHIVE, archiveImmutabilityDays: 2557 });
    assert.deepEqual(policy!.body.properties, { immutabilityPeriodSinceCreationInDays: 2557, allowProtectedAppendWrites: false });
    assert.ok(policy!.name.endsWith('/default/kube-audit-archive/default'));
  });

  it('refuses, before creating anything, steps out of order, a deletion before the retention ends, and a bad container name', () => {
    assert.throws(() => expand({ ...ARCHIVE, archiveCoolAfterDays: 90, archiveColdAfterDays: 60 }), /must increase in that order/);
    assert.throws(() => expand({ ...ARCHIVE, archiveArchiveAfterDays: 3000 }), /must increase in that order/, 'archive after delete');
    assert.throws(() => expand({ ...ARCHIVE, archiveImmutabilityDays: 3650 }), /must not come before archiveImmutabilityDays ends/);
    assert.doesNotThrow(() => expand({ ...ARCHIVE, archiveImmutabilityDays: 3650, archiveDeleteAfterDays: 0 }));
    for (const name of ['Audit-Archive', 'audit_archive', '-audit', 'audit-', 'audit--archive']) {
      assert.throws(() => expand({ ...ARCHIVE, archiveContainerName: name }), /archiveContainerName must be 3 to 63 lowercase letters/, name);
    }
    assert.throws(() => expand({ ...ARCHIVE, archiveContainerName: 'ab' }), /shorter than 3/);
    assert.throws(() => expand({ ...ARCHIVE, archiveCoolAfterDays: -1 }), /less than 0/);
    assert.throws(() => expand({ archiveContainer: 'yes' }), /not one of/);
    assert.throws(() => expand({ ...ARCHIVE, archiveRedundancy: 'Standard_ZRS' }), /not one of/, 'zone-redundant accounts have no Archive tier');
  });
});
