// The template's optional cold table (issue 16): a Basic or Auxiliary table with a data collection rule of its own,
// the app settings that route to it, and the saved searches that say which tier they read.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readAzureSettings } from '../../functions/azure/settings.ts';
import { AKS_AUDIT_COLUMNS } from '../../src/sinks/aks-audit-row.ts';
import { appSettings, expand, template, TIERS_TO_COLD } from '../support/azure-deployment.ts';
import { KUBE_AUDIT_TABLE, kqlErrors, kqlResultSchema, type TableSchema } from '../support/kql.ts';

const MONITORING_METRICS_PUBLISHER = '3913510d-42f4-4e42-8a64-420c390055eb';
const COLD_TABLE = 'KubeAuditCold_CL';
const COLD_STREAM = 'Custom-KubeAuditCold';

const ofType = (resources: ReturnType<typeof expand>['resources'], type: string) => resources.filter((r) => r.type === type);
const tableNamed = (resources: ReturnType<typeof expand>['resources'], name: string) =>
  ofType(resources, 'Microsoft.OperationalInsights/workspaces/tables').find((r) => r.body.properties.schema.name === name);
const coldRule = (resources: ReturnType<typeof expand>['resources']) =>
  ofType(resources, 'Microsoft.Insights/dataCollectionRules').find((r) => r.name.includes('-dcr-cold-'));

/** What the platform hands the function once it resolved the Key Vault reference and the rules' immutable ids. */
const resolved = (settings: Record<string, string>) => ({
  ...settings,
  LOGS_INGESTION_ENDPOINT: 'https://kar-dce-x.westeurope-1.ingest.monitor.azure.com',
  LOGS_DCR_IMMUTABLE_ID: 'dcr-0123456789abcdef0123456789abcdef',
  AUTH_TOKENS: '0123456789abcdef0123456789abcdef',
  ...(settings.COLD_LOGS_DCR_IMMUTABLE_ID ? { COLD_LOGS_DCR_IMMUTABLE_ID: 'dcr-fedcba9876543210fedcba9876543210' } : {}),
});

describe('infra/azure ARM template: the cold table', () => {
  it('adds no cold table, rule, role or search by default, and the app routes every event to KubeAudit_CL', () => {
    const { resources, outputs } = expand();
    assert.equal(tableNamed(resources, COLD_TABLE), undefined);
    assert.equal(coldRule(resources), undefined);
    const settings = appSettings(resources);
    for (const name of ['COLD_LOGS_STREAM_NAME', 'COLD_LOGS_DCR_IMMUTABLE_ID', 'TIERS', 'TIERS_PRESET']) assert.equal(settings[name], '', name);
    const config = readAzureSettings(resolved(settings));
    assert.deepEqual([config.coldStreamName, config.coldRuleId, config.tiers], [undefined, undefined, undefined]);
    assert.equal(outputs.coldTableName!.value, '');
  });

  for (const plan of ['Basic', 'Auxiliary'] as const) {
    it(`${plan}: the table, its own rule with the hot stream's columns, and a transform whose output is exactly the table`, () => {
      const { resources, outputs } = expand({ coldTablePlan: plan, TIERS: TIERS_TO_COLD, coldTotalRetentionInDays: 1095 });
      const table = tableNamed(resources, COLD_TABLE)!;
      assert.equal(table.body.properties.plan, plan);
      assert.equal(table.body.properties.totalRetentionInDays, 1095);
      // Basic and Auxiliary tables have no interactive retention of their own to set.
      assert.equal(table.body.properties.retentionInDays, undefined);
      const columns: TableSchema['columns'] = table.body.properties.schema.columns;
      // Auxiliary tables cannot hold dynamic columns: the same names, the objects as JSON text.
      const expected = AKS_AUDIT_COLUMNS.map(({ name, type }) => ({ name, type: plan === 'Auxiliary' && type === 'dynamic' ? 'string' : type }));
      assert.deepEqual(columns, expected);

      const rule = coldRule(resources)!.body.properties;
      const hotRule = ofType(resources, 'Microsoft.Insights/dataCollectionRules').find((r) => !r.name.includes('-dcr-cold-'))!.body.properties;
      // The function writes the same rows to either tier, so the cold stream declares the hot stream's columns.
      assert.deepEqual(Object.keys(rule.streamDeclarations), [COLD_STREAM]);
      assert.deepEqual(rule.streamDeclarations[COLD_STREAM].columns, hotRule.streamDeclarations['Custom-KubeAudit'].columns);
      assert.equal(rule.dataCollectionEndpointId, hotRule.dataCollectionEndpointId, 'the same private ingestion endpoint');
      assert.equal(rule.dataFlows.length, 1, 'one table per rule, as Auxiliary tables require');
      const [flow] = rule.dataFlows;
      assert.deepEqual([flow.streams, flow.destinations, flow.outputStream], [[COLD_STREAM], ['workspace'], `Custom-${COLD_TABLE}`]);
      assert.equal(rule.destinations.logAnalytics[0].workspaceResourceId, hotRule.destinations.logAnalytics[0].workspaceResourceId);
      // The transform, checked by the Kusto language service: the hot table's 'source' where the plan allows it, and
      // for Auxiliary each dynamic column turned to text, so its output has exactly the table's names and types.
      if (plan === 'Basic') assert.equal(flow.transformKql, hotRule.dataFlows[0].transformKql);
      const source: TableSchema = { name: 'source', columns: rule.streamDeclarations[COLD_STREAM].columns };
      assert.deepEqual(kqlErrors(flow.transformKql, [source]), []);
      assert.deepEqual(kqlResultSchema(flow.transformKql, [source]), columns.map(({ name, type }) => ({ name, type })));
      assert.equal(outputs.coldTableName!.value, COLD_TABLE);
    });
  }

  it('lets the function write the cold rule, and nothing more, and names the rule and stream in its settings', () => {
    const { resources } = expand({ coldTablePlan: 'Auxiliary', TIERS: TIERS_TO_COLD });
    const site = ofType(resources, 'Microsoft.Web/sites')[0]!;
    const rule = coldRule(resources)!;
    const publishers = ofType(resources, 'Microsoft.Authorization/roleAssignments').filter((a) => a.body.properties.roleDefinitionId.endsWith(`/${MONITORING_METRICS_PUBLISHER}`));
    const onCold = publishers.filter((a) => a.body.scope === rule.id);
    assert.equal(onCold.length, 1);
    assert.equal(String(onCold[0]!.body.properties.principalId), `<reference(${site.id}).identity.principalId>`);

    const settings = appSettings(resources);
    assert.equal(settings.COLD_LOGS_STREAM_NAME, COLD_STREAM);
    assert.equal(settings.COLD_LOGS_DCR_IMMUTABLE_ID, `<reference(${rule.id}).immutableId>`);
    assert.ok(site.body.dependsOn.includes(rule.id), 'the app reads the rule, so it waits for it');
    const config = readAzureSettings(resolved(settings));
    assert.equal(config.coldStreamName, COLD_STREAM);
    assert.equal(config.coldRuleId, 'dcr-fedcba9876543210fedcba9876543210');
    assert.equal(config.tiers?.default, 'cold');
  });

  it('tags every saved search with its tier and table, and adds one for the cold table that reads both plans', () => {
    const hotOnly = ofType(expand().resources, 'Microsoft.OperationalInsights/workspaces/savedSearches');
    for (const search of hotOnly) {
      assert.deepEqual(search.body.properties.tags, [{ name: 'tier', value: 'hot' }, { name: 'table', value: 'KubeAudit_CL' }], search.name);
      assert.match(search.body.properties.displayName, / \(hot tier: KubeAudit_CL\)$/);
    }
    for (const plan of ['Basic', 'Auxiliary']) {
      const { resources } = expand({ coldTablePlan: plan, TIERS: TIERS_TO_COLD });
      const cold = ofType(resources, 'Microsoft.OperationalInsights/workspaces/savedSearches').filter((s) => !hotOnly.some((h) => h.id === s.id));
      assert.equal(cold.length, 1);
      const search = cold[0]!.body.properties;
      assert.deepEqual(search.tags, [{ name: 'tier', value: 'cold' }, { name: 'table', value: COLD_TABLE }]);
      assert.match(search.displayName, / \(cold tier: KubeAuditCold_CL\)$/);
      assert.ok(search.query.startsWith(`${COLD_TABLE}\n`));
      const table: TableSchema = { name: COLD_TABLE, columns: tableNamed(resources, COLD_TABLE)!.body.properties.schema.columns };
      assert.deepEqual(kqlErrors(search.query, [table]), [], plan);
      // The hot table's name is not in it: Basic and Auxiliary queries read one table.
      assert.deepEqual(kqlErrors(search.query, [KUBE_AUDIT_TABLE]).length > 0, true);
    }
  });

  it('refuses, before creating anything, a cold table without TIERS, TIERS with TIERS_PRESET, and retention ARM does not offer', () => {
    assert.throws(() => expand({ coldTablePlan: 'Basic' }), /coldTablePlan needs TIERS/);
    assert.throws(() => expand({ TIERS: TIERS_TO_COLD, TIERS_PRESET: 'minimal' }), /give TIERS or TIERS_PRESET, not both/);
    assert.throws(() => expand({ coldTablePlan: 'Analytics', TIERS: TIERS_TO_COLD }), /coldTablePlan' is not valid: not one of/);
    assert.throws(() => expand({ TIERS_PRESET: 'strict' }), /TIERS_PRESET' is not valid: not one of/);
    assert.throws(() => expand({ TIERS_PRESET: 'security' }), /TIERS_PRESET security and compliance send events to the cold tier: set coldTablePlan/, 'the presets the deployed outputs cannot store: azure-template-tiers.test.ts');
    assert.throws(() => expand({ coldTablePlan: 'Basic', TIERS: TIERS_TO_COLD, coldTotalRetentionInDays: 800 }), /coldTotalRetentionInDays must be 30 to 730 or whole years/);
    assert.throws(() => expand({ coldTablePlan: 'Basic', TIERS: TIERS_TO_COLD, coldTotalRetentionInDays: 20 }), /less than 30/);
    assert.equal(tableNamed(expand({ coldTablePlan: 'Basic', TIERS: TIERS_TO_COLD, coldTotalRetentionInDays: 4383 }).resources, COLD_TABLE)!.body.properties.totalRetentionInDays, 4383);
    assert.equal(appSettings(expand({ TIERS_PRESET: 'minimal' }).resources).TIERS_PRESET, 'minimal');
    assert.deepEqual(template.parameters.coldTablePlan.allowedValues, ['none', 'Basic', 'Auxiliary']);
  });
});
