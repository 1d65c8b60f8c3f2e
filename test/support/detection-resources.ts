// Checks the generated detections in a packaged template against the rule source: every rule's saved query, and for
// STANDARD groups every alerting rule's metric filter and alarm.
import assert from 'node:assert/strict';
import { DETECTION_METRIC_NAMESPACE, metricFilterOf } from '../../src/detect/aws-template.ts';
import { INSIGHTS_INVESTIGATIONS } from '../../src/detect/logs-insights.ts';
import { loadRules } from '../../src/detect/rule-source.ts';
import { alerts } from '../../src/detect/rule.ts';
import type { Template } from './serverless.ts';
import { alarmMetrics, metricIdentity, ofType } from './template.ts';

const rules = loadRules();

export interface ExpectedDetections {
  readonly cluster: string;
  readonly groupName: string;
  /** The metric filters' LogGroupName: `{ Ref: 'AuditLogGroup' }` for a created group, the name for an adopted one. */
  readonly filterGroup: unknown;
  /** false for INFREQUENT_ACCESS groups: no metric filters, so no detection alarms. */
  readonly metricFilters: boolean;
  readonly alarmActions: readonly string[];
}

export function assertDetections(template: Template, expected: ExpectedDetections): void {
  const queries = ofType(template, 'AWS::Logs::QueryDefinition').map(([, query]) => query.Properties!);
  const prefix = `kube-audit-relay/${expected.cluster}/`;
  for (const name of [...rules.map((rule) => `detections/${rule.id}`), ...Object.keys(INSIGHTS_INVESTIGATIONS).map((id) => `investigate/${id}`)]) {
    const query = queries.find((candidate) => candidate.Name === prefix + name);
    assert.ok(query, `no saved query ${prefix + name}`);
    assert.deepEqual(query.LogGroupNames, [expected.groupName], name);
  }

  const filters = ofType(template, 'AWS::Logs::MetricFilter').filter(([, filter]) => filter.Properties!.MetricTransformations[0].MetricNamespace === DETECTION_METRIC_NAMESPACE);
  const alarms = alarmMetrics(template).filter((alarm) => alarm.properties.Namespace === DETECTION_METRIC_NAMESPACE);
  if (!expected.metricFilters) {
    assert.deepEqual([...filters.map(([id]) => id), ...alarms.map((alarm) => alarm.id)], [], 'detection filters or alarms without metric filters');
    return;
  }
  const alerting = rules.filter(alerts);
  assert.ok(alerting.length > 0);
  assert.equal(filters.length, alerting.length, 'one metric filter per alerting rule');
  assert.equal(alarms.length, alerting.length, 'one alarm per alerting rule');
  for (const rule of alerting) {
    const filter = metricFilterOf(rule);
    assert.ok('pattern' in filter, `${rule.id} has no metric filter: ${JSON.stringify(filter)}`);
    const found = filters.find(([, candidate]) => candidate.Properties!.MetricTransformations[0].MetricName === rule.id);
    assert.ok(found, `no metric filter for ${rule.id}`);
    const properties = found[1].Properties!;
    assert.deepEqual(properties.LogGroupName, expected.filterGroup, rule.id);
    assert.equal(properties.FilterPattern, filter.pattern, rule.id);
    const identity = metricIdentity(DETECTION_METRIC_NAMESPACE, rule.id, { Cluster: expected.cluster });
    const transformation = properties.MetricTransformations[0];
    const dimensions = Object.fromEntries((transformation.Dimensions as { Key: string; Value: string }[]).map(({ Key, Value }) => [Key, Value]));
    assert.equal(metricIdentity(transformation.MetricNamespace, transformation.MetricName, dimensions), identity, `${rule.id}: the filter publishes another metric than the alarm watches`);
    const alarm = alarms.find((candidate) => candidate.identity === identity);
    assert.ok(alarm, `no alarm on ${identity}`);
    assert.deepEqual(alarm.properties.AlarmActions, expected.alarmActions, alarm.id);
  }
}
