import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BATCH_LOG_PREFIX } from '../../functions/azure/batch-log.ts';
import { expand, template } from '../support/azure-deployment.ts';
import { FUNCTION_APP_LOGS_TABLE, KUBE_AUDIT_TABLE, kqlErrors, kqlResultColumns } from '../support/kql.ts';

const TABLES = [KUBE_AUDIT_TABLE, FUNCTION_APP_LOGS_TABLE];
const ofType = (resources: ReturnType<typeof expand>['resources'], type: string) => resources.filter((r) => r.type === type && r.deployed);
const alertRules = (overrides: Record<string, unknown> = {}) => {
  const { resources } = expand(overrides);
  return new Map(ofType(resources, 'Microsoft.Insights/scheduledQueryRules').map((rule) => [rule.name.split('-').slice(1, -1).join('-'), rule.body]));
};
/** Where a query must read the relay's own log lines, exactly as functions/azure/batch-log.ts writes them. */
const READS_BATCH_LINES = `FunctionAppLogs\n| where Message startswith '${BATCH_LOG_PREFIX}'\n`;

describe('infra/azure monitoring: Application Insights, diagnostic settings, alert rules, workbook', () => {
  it('sends the function telemetry to workspace-based Application Insights, privately and with Entra ID only', () => {
    const { resources } = expand();
    const [insights] = ofType(resources, 'Microsoft.Insights/components');
    const workspace = ofType(resources, 'Microsoft.OperationalInsights/workspaces')[0]!;
    assert.equal(insights!.body.properties.WorkspaceResourceId, workspace.id);
    assert.equal(insights!.body.properties.DisableLocalAuth, true);
    const scoped = ofType(resources, 'Microsoft.Insights/privateLinkScopes/scopedResources').map((r) => r.body.properties.linkedResourceId);
    assert.ok(scoped.includes(insights!.id), 'Application Insights is not in the private link scope, so private ingestion would fail');
    const site = ofType(resources, 'Microsoft.Web/sites')[0]!;
    const settings = Object.fromEntries(site.body.properties.siteConfig.appSettings.map((s: any) => [s.name, String(s.value)]));
    assert.equal(settings.APPLICATIONINSIGHTS_CONNECTION_STRING, `<reference(${insights!.id}).ConnectionString>`);
    assert.equal(settings.APPLICATIONINSIGHTS_AUTHENTICATION_STRING, 'Authorization=AAD');
  });

  it('sends the function app logs (FunctionAppLogs) to the workspace with a diagnostic setting', () => {
    const { resources } = expand();
    const site = ofType(resources, 'Microsoft.Web/sites')[0]!;
    const workspace = ofType(resources, 'Microsoft.OperationalInsights/workspaces')[0]!;
    const [setting, ...others] = ofType(resources, 'Microsoft.Insights/diagnosticSettings');
    assert.equal(others.length, 0);
    assert.equal(setting!.body.scope, site.id);
    assert.equal(setting!.body.properties.workspaceId, workspace.id);
    assert.deepEqual(setting!.body.properties.logs, [{ category: 'FunctionAppLogs', enabled: true }]);
  });

  it('ships four alert rules over the workspace, each query sound against the tables it reads', () => {
    const rules = alertRules();
    assert.deepEqual([...rules.keys()], ['failed-batches', 'function-host-errors', 'auth-failures', 'audit-stopped-aks-prod-weu']);
    const workspace = ofType(expand().resources, 'Microsoft.OperationalInsights/workspaces')[0]!;
    for (const [name, rule] of rules) {
      const [criterion, ...more] = rule.properties.criteria.allOf;
      assert.equal(more.length, 0);
      assert.deepEqual(kqlErrors(criterion.query, TABLES), [], name);
      assert.deepEqual(rule.properties.scopes, [workspace.id], name);
      assert.equal(rule.kind, 'LogAlert');
      assert.equal(rule.properties.evaluationFrequency, 'PT5M');
      // Azure checks a query against the workspace when the rule is created; FunctionAppLogs only exists once the app
      // has logged, so those rules skip that check (this test does it instead).
      assert.equal(rule.properties.skipQueryValidation, criterion.query.startsWith('FunctionAppLogs'), name);
      const columns = kqlResultColumns(criterion.query, TABLES);
      for (const dimension of criterion.dimensions) assert.ok(columns.includes(dimension.name), `${name} splits by ${dimension.name}, which its result lacks`);
    }
  });

  it('fires audit-stopped for CLUSTER_NAME alone when KubeAudit_CL got no row from it for auditStoppedMinutes', () => {
    for (const minutes of template.parameters.auditStoppedMinutes.allowedValues as number[]) {
      const rule = alertRules({ auditStoppedMinutes: minutes }).get('audit-stopped-aks-prod-weu')!;
      const criterion = rule.properties.criteria.allOf[0];
      assert.equal(criterion.query, 'KubeAudit_CL\n| where Cluster == "aks-prod-weu"');
      assert.deepEqual([criterion.timeAggregation, criterion.operator, criterion.threshold, criterion.dimensions], ['Count', 'LessThan', 1, []]);
      const [, hours, mins] = /^PT(?:(\d+)H)?(?:(\d+)M)?$/.exec(rule.properties.windowSize)!;
      assert.equal(Number(hours ?? 0) * 60 + Number(mins ?? 0), minutes, rule.properties.windowSize);
    }
  });

  it('fires audit-stopped once per cluster in clusters, each query reading only its cluster', () => {
    const rules = alertRules({ clusters: ['aks-prod-weu', 'aks-prod-neu', 'aks-prod-weu'], auditStoppedMinutes: 30 });
    const stopped = [...rules].filter(([name]) => name.startsWith('audit-stopped-'));
    assert.deepEqual(stopped.map(([name]) => name), ['audit-stopped-aks-prod-weu', 'audit-stopped-aks-prod-neu'], 'one rule per cluster, none repeated');
    for (const [name, rule] of stopped) {
      const criterion = rule.properties.criteria.allOf[0];
      assert.equal(criterion.query, `KubeAudit_CL\n| where Cluster == "${name.slice('audit-stopped-'.length)}"`);
      assert.deepEqual([criterion.operator, criterion.threshold, rule.properties.windowSize, rule.properties.severity], ['LessThan', 1, 'PT30M', 1], name);
      assert.deepEqual(kqlErrors(criterion.query, TABLES), [], name);
    }
  });

  it('keeps a cluster name with a quote or backslash one KQL string literal', () => {
    const [rule] = [...alertRules({ clusters: ['edge"or true\\'] }).values()].filter((item) => item.properties.displayName.startsWith('Audit stopped'));
    const { query } = rule!.properties.criteria.allOf[0];
    assert.equal(query, 'KubeAudit_CL\n| where Cluster == "edge\\"or true\\\\"');
    assert.deepEqual(kqlErrors(query, TABLES), []);
  });

  it('counts failed and refused batches from the lines the function logs, split by status class and cluster', () => {
    const rule = alertRules({ failedBatchesThreshold: 7 }).get('failed-batches')!;
    const criterion = rule.properties.criteria.allOf[0];
    assert.ok(criterion.query.startsWith(READS_BATCH_LINES), criterion.query);
    assert.match(criterion.query, /\| where Status >= 400\n/);
    assert.deepEqual([criterion.operator, criterion.threshold], ['GreaterThanOrEqual', 7]);
    // One alert per cluster too, so the page names whose API server is losing audit; a 401 has no cluster.
    assert.match(criterion.query, /\| extend Cluster = iif\(isempty\(tostring\(Batch\.cluster\)\), "unknown caller", tostring\(Batch\.cluster\)\)$/);
    assert.deepEqual(criterion.dimensions, [
      { name: 'StatusClass', operator: 'Include', values: ['*'] },
      { name: 'Cluster', operator: 'Include', values: ['*'] },
    ]);
    // Host errors are everything at Error or Critical that is not one of those lines, so nothing counts twice.
    const host = alertRules().get('function-host-errors')!.properties.criteria.allOf[0].query;
    assert.ok(host.includes(`not(Message startswith '${BATCH_LOG_PREFIX}')`), host);
  });

  it('fires on a spike of 401/403 answers in the audit table, per cluster', () => {
    const criterion = alertRules({ authFailuresThreshold: 120 }).get('auth-failures')!.properties.criteria.allOf[0];
    assert.match(criterion.query, /^KubeAudit_CL\n/);
    assert.match(criterion.query, /toint\(ResponseStatus\.code\) in \(401, 403\)/);
    assert.deepEqual([criterion.operator, criterion.threshold], ['GreaterThanOrEqual', 120]);
    assert.deepEqual(criterion.dimensions.map((d: { name: string }) => d.name), ['Cluster']);
  });

  it('notifies an action group for the given addresses and the given existing groups, and creates none without addresses', () => {
    const existing = '/subscriptions/00000000-0000-0000-0000-0000000000aa/resourceGroups/ops/providers/Microsoft.Insights/actionGroups/pager';
    const none = expand({ alertEmailAddresses: [] });
    assert.deepEqual(ofType(none.resources, 'Microsoft.Insights/actionGroups'), []);
    for (const rule of alertRules({ alertEmailAddresses: [] }).values()) assert.deepEqual(rule.properties.actions.actionGroups, []);

    const { resources } = expand({ alertEmailAddresses: ['oncall@example.com', 'audit@example.com'], alertActionGroupIds: [existing] });
    const [group] = ofType(resources, 'Microsoft.Insights/actionGroups');
    assert.deepEqual(group!.body.properties.emailReceivers.map((r: { emailAddress: string }) => r.emailAddress), ['oncall@example.com', 'audit@example.com']);
    assert.ok(group!.body.properties.groupShortName.length <= 12, 'groupShortName is at most 12 characters');
    for (const rule of ofType(resources, 'Microsoft.Insights/scheduledQueryRules')) {
      assert.deepEqual(rule.body.properties.actions.actionGroups, [existing, group!.id]);
      assert.ok(rule.body.dependsOn.includes(group!.id));
    }
  });

  it('holds no query anywhere that the language service rejects: saved searches, alert rules and workbook tiles', () => {
    const { resources } = expand({ clusters: ['aks-prod-weu', 'aks-prod-neu'] });
    const queries: [string, string][] = [];
    const visit = (value: unknown, path: string): void => {
      if (Array.isArray(value)) value.forEach((item, index) => visit(item, `${path}[${index}]`));
      else if (value !== null && typeof value === 'object') {
        for (const [key, item] of Object.entries(value)) {
          if (key === 'query' && typeof item === 'string') queries.push([`${path}.query`, item]);
          // The workbook's content is a JSON string.
          else if (key === 'serializedData' && typeof item === 'string') visit(JSON.parse(item), `${path}.serializedData`);
          else visit(item, `${path}.${key}`);
        }
      }
    };
    for (const resource of resources) visit(resource.body, resource.name);
    assert.equal(queries.length, 8 + 3 + 2 + 10, 'saved searches, alert rules, one audit-stopped rule per cluster and workbook tiles');
    for (const [path, query] of queries) assert.deepEqual(kqlErrors(query, TABLES), [], path);
  });

  it('ships a workbook of relay health and the audit whose every query is sound', () => {
    const { resources } = expand();
    const [workbook] = ofType(resources, 'Microsoft.Insights/workbooks');
    const workspace = ofType(resources, 'Microsoft.OperationalInsights/workspaces')[0]!;
    assert.equal(workbook!.body.properties.sourceId, workspace.id);
    const content = JSON.parse(workbook!.body.properties.serializedData) as { items: { type: number; name: string; content: any }[] };
    const queries = content.items.filter((item) => item.type === 3);
    assert.deepEqual(queries.map((item) => item.name), [
      'batches-by-status', 'events-written', 'batch-duration', 'failed-batches',
      'requests-by-verb', 'top-users', 'denied-by-user', 'events-per-cluster', 'rbac-changes', 'secret-access',
    ]);
    for (const { name, content: query } of queries) {
      assert.deepEqual(kqlErrors(query.query, TABLES), [], name);
      assert.equal(query.timeContextFromParameter, 'TimeRange', `${name} ignores the time range picker`);
      assert.equal(query.resourceType, 'microsoft.operationalinsights/workspaces');
    }
    for (const name of ['batches-by-status', 'events-written', 'batch-duration', 'failed-batches']) {
      assert.ok(queries.find((item) => item.name === name)!.content.query.startsWith(READS_BATCH_LINES), name);
    }
    const parameters = content.items.find((item) => item.type === 9)!.content.parameters;
    assert.deepEqual(parameters.map((p: { name: string }) => p.name), ['TimeRange']);
  });
});
