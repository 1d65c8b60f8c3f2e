import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { ARTIFACT_PATHS, generateArtifacts } from '../../src/detect/artifacts.ts';
import { kqlQuery } from '../../src/detect/kql.ts';
import { loadRules } from '../../src/detect/rule-source.ts';
import { alerts } from '../../src/detect/rule.ts';
import { TemplateEvaluator } from '../support/arm-template.ts';
import { expand } from '../support/azure-deployment.ts';
import { kqlErrors, KUBE_AUDIT_TABLE, type TableSchema } from '../support/kql.ts';

const root = new URL('../../', import.meta.url);
const committed = (path: string) => readFileSync(new URL(path, root), 'utf8');
const rules = loadRules();

describe('generated detection artifacts', () => {
  it('are what `npm run detections` makes from the committed rules', () => {
    const generated = generateArtifacts(rules, committed);
    for (const path of ARTIFACT_PATHS) assert.equal(committed(path), generated[path], `${path} is stale: run npm run detections and commit the result`);
  });

  it('hold a saved query per rule on AWS, and a metric filter and alarm per alerting rule for STANDARD groups only', () => {
    type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;
    const resources = (path: string) => Object.values((parse(committed(path)) as { Resources: Resources }).Resources);
    const byType = (path: string, type: string) => resources(path).filter((resource) => resource.Type === type);
    const queries = byType('infra/aws/detection-queries.yml', 'AWS::Logs::QueryDefinition');
    assert.equal(queries.length, rules.length + 2);
    // QueryDefinition's QueryString is at most 10,000 characters.
    for (const query of queries) assert.ok(String(query.Properties.QueryString).length <= 10_000, String(query.Properties.Name));
    assert.equal(byType('infra/aws/detection-alarms-metric-filter.yml', 'AWS::Logs::MetricFilter').length, rules.filter(alerts).length);
    assert.equal(byType('infra/aws/detection-alarms-metric-filter.yml', 'AWS::CloudWatch::Alarm').length, rules.filter(alerts).length);
    assert.deepEqual(resources('infra/aws/detection-alarms-none.yml'), []);
    // Choices are made at package time (infra/aws/parameters.cjs): a condition here would be constant after packaging.
    for (const path of ARTIFACT_PATHS.filter((file) => file.startsWith('infra/aws/'))) assert.doesNotMatch(committed(path), /Condition|Fn::If/, path);
  });
});

describe('KQL of the Azure detections, checked by the Kusto language service against the relay table (the template declares the same columns)', () => {
  const check = (query: string, table: TableSchema = KUBE_AUDIT_TABLE) => kqlErrors(query, [table]);
  const template = JSON.parse(committed('infra/azure/detections.json')) as { resources: { type: string; name: string; properties: Record<string, any> }[] };

  it('every saved search and scheduled query rule parses and binds without an error', () => {
    const queries = template.resources.map((resource) => ({ name: resource.name, query: String(resource.properties.query ?? resource.properties.criteria.allOf[0].query) }));
    assert.equal(queries.length, rules.length + 2 + rules.filter(alerts).length);
    for (const { name, query } of queries) assert.deepEqual(check(query), [], `${name}:\n${query}`);
  });

  it('the checker rejects a column the table does not have, and a query that does not parse', () => {
    const query = kqlQuery(rules.find((rule) => rule.id === 'impersonation')!);
    assert.deepEqual(check(query), []);
    assert.match(check(query.replace('ImpersonatedUser', 'Impersonated')).join('\n'), /Impersonated.*does not refer to any known/);
    const { name, columns } = KUBE_AUDIT_TABLE;
    const withoutColumn = { name, columns: columns.filter((column) => column.name !== 'ImpersonatedUser') };
    assert.match(check(query, withoutColumn).join('\n'), /ImpersonatedUser.*does not refer to any known/);
    assert.notDeepEqual(check(`${name}\n| where`), []);
  });

  it('deploys after azuredeploy.json from its outputs: alerts scoped to the workspace it made, notifying its action groups', () => {
    // Arrange: the relay template with an alert address, so it makes an action group; its outputs as `az deployment group show` gives them.
    const relay = expand({ alertEmailAddresses: ['oncall@example.com'] });
    const workspace = relay.resources.find((resource) => resource.type === 'Microsoft.OperationalInsights/workspaces')!;
    const relayAlert = relay.resources.find((resource) => resource.type === 'Microsoft.Insights/scheduledQueryRules')!;
    const workspaceName = relay.outputs.workspaceName!.value;
    const actionGroupIds = relay.outputs.alertActionGroupIds!.value as string[];
    assert.equal(actionGroupIds.length, 1);
    // Act: the detections template with exactly those values (the az command of docs/azure.md).
    const evaluator = new TemplateEvaluator(template, { workspaceName, actionGroupIds });
    const resources = evaluator.value(template.resources) as { type: string; name: string; properties: { actions?: { actionGroups: string[] }; scopes?: string[] } }[];
    // Assert: same workspace, same action groups as the relay's own alerts.
    const alertRules = resources.filter((resource) => resource.type === 'Microsoft.Insights/scheduledQueryRules');
    assert.equal(alertRules.length, rules.filter(alerts).length);
    for (const rule of alertRules) {
      assert.deepEqual(rule.properties.scopes, [workspace.id], rule.name);
      assert.deepEqual(rule.properties.actions!.actionGroups, relayAlert.body.properties.actions.actionGroups, rule.name);
    }
    for (const search of resources.filter((resource) => resource.type.endsWith('/savedSearches'))) assert.ok(search.name.startsWith(`${workspaceName}/`), search.name);
  });

  it('its ARM expressions evaluate, and alerts notify the action groups given', () => {
    for (const actionGroupIds of [[], ['/subscriptions/s/resourceGroups/rg/providers/microsoft.insights/actionGroups/oncall']]) {
      const evaluator = new TemplateEvaluator(template, { workspaceName: 'law-audit', actionGroupIds });
      const resources = evaluator.value(template.resources) as { type: string; properties: { actions?: { actionGroups: string[] }; scopes?: string[] } }[];
      const rulesOut = resources.filter((resource) => resource.type === 'Microsoft.Insights/scheduledQueryRules');
      assert.equal(rulesOut.length, rules.filter(alerts).length);
      for (const rule of rulesOut) {
        assert.deepEqual(rule.properties.actions!.actionGroups, actionGroupIds);
        assert.match(rule.properties.scopes![0]!, /Microsoft\.OperationalInsights\/workspaces\/law-audit$/);
      }
    }
  });
});
