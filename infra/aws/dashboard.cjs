// The CloudWatch dashboard people look at before they read logs: the relay's health (alarms, batches by answer,
// events, sink latency, API Gateway and Lambda) and the audit itself (Logs Insights widgets on the audit group).
// Metric names and dimensions are the handler's (functions/aws/metrics.ts); the RBAC, secrets and top-user queries are
// the saved ones of queries.yml, read from there, and the detection alarms those of the generated detection-alarms-*.yml.
'use strict';

const { CLUSTER_DIMENSION, RELAY_METRICS_NAMESPACE, RELAY_SERVICE_NAME } = require('./relay-metrics.cjs');

const WIDTH = 24;

module.exports = async ({ resolveVariable }) => {
  const stage = await resolveVariable('sls:stage');
  const cluster = await resolveVariable('param:CLUSTER_NAME');
  const apiName = await resolveVariable('self:provider.apiName');
  const { metricFilters, silenceAlarms, failedAlarms, refusedAlarms, logGroupNames } = await resolveVariable('self:custom.relay');
  // Every cluster's group with LOG_GROUP_NAME /aws/eks/{cluster}/cluster.
  const sources = logGroupNames.map((name) => `SOURCE '${name}'`).join(' | ');
  const savedQuery = (id) => resolveVariable(`file(infra/aws/queries.yml):Resources.${id}.Properties.QueryString`);

  const relay = (name, stat, label) => [RELAY_METRICS_NAMESPACE, name, 'service', RELAY_SERVICE_NAME, CLUSTER_DIMENSION, cluster, { stat, label }];
  const api = (name, stat) => ['AWS/ApiGateway', name, 'ApiName', apiName, 'Stage', stage, { stat }];
  const lambda = (name, stat) => ['AWS/Lambda', name, 'FunctionName', '${ReceiveLambdaFunction}', { stat }];
  const metricWidget = (title, metrics, width = 8) => ({
    type: 'metric',
    width,
    height: 6,
    properties: { title, metrics, region: '${AWS::Region}', view: 'timeSeries', stacked: false, period: 300 },
  });
  const logWidget = (title, query, view, width = 12) => ({
    type: 'log',
    width,
    height: 8,
    properties: { title, query: `${sources} | ${query}`, region: '${AWS::Region}', view },
  });
  const alarms = [...Object.keys(failedAlarms), ...Object.keys(refusedAlarms), ...Object.keys(silenceAlarms), 'ReceiveErrorsAlarm', 'ReceiveThrottlesAlarm', 'Api4xxAlarm', 'Api5xxAlarm'];
  if (metricFilters !== 'none') alarms.push('AuthFailureAlarm');
  // The generated detection alarms (none without metric filters), in a widget of their own: findings, not relay health.
  const detections = await resolveVariable(`file(infra/aws/detection-alarms-${metricFilters}.yml):Resources`);
  const detectionAlarms = Object.keys(detections).filter((id) => detections[id].Type === 'AWS::CloudWatch::Alarm');

  const widgets = [
    { type: 'alarm', width: WIDTH, height: 3, properties: { title: 'Alarms', alarms: alarms.map((id) => `\${${id}.Arn}`) } },
    ...(detectionAlarms.length === 0
      ? []
      : [{ type: 'alarm', width: WIDTH, height: 3, properties: { title: 'Detections', alarms: detectionAlarms.map((id) => `\${${id}.Arn}`) } }]),
    // Every invocation publishes EventsReceived once, so its sample count is the number of batches answered.
    metricWidget('Batches by answer', [relay('EventsReceived', 'SampleCount', 'answered'), relay('BatchesRefused', 'Sum', 'refused (4xx)'), relay('BatchesFailed', 'Sum', 'failed (5xx)')]),
    metricWidget('Events', [
      relay('EventsWritten', 'Sum', 'written'),
      relay('EventsDuplicate', 'Sum', 'duplicates'),
      relay('EventsFiltered', 'Sum', 'filtered'),
      relay('EventsTruncated', 'Sum', 'truncated'),
      relay('EventsRestamped', 'Sum', 'restamped'),
    ]),
    metricWidget('CloudWatch Logs write time per batch (ms)', [relay('SinkLatency', 'p50', 'p50'), relay('SinkLatency', 'p99', 'p99'), relay('SinkLatency', 'Maximum', 'max')]),
    // Every cluster the relay has heard from, listed or not: a SEARCH over the Cluster dimension (dashboards take it,
    // alarms do not).
    metricWidget(
      'Per cluster: events written, batches refused and failed',
      ['EventsWritten', 'BatchesRefused', 'BatchesFailed'].map((name, index) => [
        { expression: `SEARCH('{${RELAY_METRICS_NAMESPACE},${CLUSTER_DIMENSION},service} MetricName="${name}"', 'Sum', 300)`, id: `cluster${index}` },
      ]),
      WIDTH,
    ),
    metricWidget('API Gateway', [api('Count', 'Sum'), api('4XXError', 'Sum'), api('5XXError', 'Sum')], 12),
    metricWidget('Lambda', [lambda('Errors', 'Sum'), lambda('Throttles', 'Sum'), lambda('ConcurrentExecutions', 'Maximum'), lambda('Duration', 'p99')], 12),
    logWidget('Requests by verb', 'filter stage = "ResponseComplete" | stats count(*) as requests by bin(5m), verb', 'timeSeries', WIDTH),
    logWidget('Top users', await savedQuery('QueryMostActiveUsers'), 'table'),
    logWidget(
      '401/403 by user',
      'filter stage = "ResponseComplete" and responseStatus.code in [401, 403] | stats count(*) as denied by user.username, responseStatus.code, verb, objectRef.resource | sort denied desc | limit 50',
      'table',
    ),
    logWidget('Who changed RBAC', await savedQuery('QueryRbacChanges'), 'table'),
    logWidget('Secrets access', await savedQuery('QuerySecretsAccess'), 'table'),
  ];
  return {
    Resources: {
      RelayDashboard: {
        Type: 'AWS::CloudWatch::Dashboard',
        Properties: {
          DashboardName: `kube-audit-relay-${stage}`,
          DashboardBody: { 'Fn::Sub': JSON.stringify({ widgets }) },
        },
      },
    },
  };
};
