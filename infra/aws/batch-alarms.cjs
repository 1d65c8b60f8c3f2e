// The relay's failed (5xx) and refused (4xx) batches, one alarm of each per cluster: CLUSTERS and CLUSTER_NAME. The
// Lambda publishes BatchesFailed and BatchesRefused with the caller's cluster as dimension Cluster, and CLUSTER_NAME
// where no caller is known (a wrong token, an invalid configuration), so an alarm on CLUSTER_NAME alone missed every
// other cluster of a fleet. One alarm per cluster, like the audit-stopped alarms: an alarm can take no SEARCH
// expression, metric math at most 10 metrics, and a multi-time-series Metrics Insights alarm (GROUP BY Cluster) would
// also watch clusters missing from CLUSTERS but says "n of m time series" where this one names the cluster whose API
// server is losing audit, and counts against 200 such alarms per account and region. CLUSTER_NAME's keep the ids
// BatchesFailedAlarm and BatchesRefusedAlarm, so an update does not replace them.
'use strict';

const { CLUSTER_DIMENSION, RELAY_METRICS_NAMESPACE, RELAY_SERVICE_NAME } = require('./relay-metrics.cjs');

module.exports = async ({ resolveVariable }) => {
  const stage = await resolveVariable('sls:stage');
  const { failedAlarms, refusedAlarms, alarmActions } = await resolveVariable('self:custom.relay');
  const alarm = (metricName, description) => (cluster) => ({
    Type: 'AWS::CloudWatch::Alarm',
    Properties: {
      AlarmDescription: description(cluster),
      Namespace: RELAY_METRICS_NAMESPACE,
      MetricName: metricName,
      Dimensions: [
        { Name: 'service', Value: RELAY_SERVICE_NAME },
        { Name: CLUSTER_DIMENSION, Value: cluster },
      ],
      Statistic: 'Sum',
      Period: 300,
      EvaluationPeriods: 1,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: alarmActions,
    },
  });
  const failed = alarm(
    'BatchesFailed',
    (cluster) =>
      `kube-audit-relay ${stage} answered 5xx to cluster ${cluster} (configuration invalid, token parameter unreadable, CloudWatch Logs refused or throttled, the cluster's log group missing); the API server retries, then drops the batch. The function log's "batch not stored" and "configuration is invalid" lines say why.`,
  );
  const refused = alarm(
    'BatchesRefused',
    (cluster) =>
      `kube-audit-relay ${stage} answered 4xx to cluster ${cluster} (wrong or missing token, body not an EventList or too large; refusals of unknown callers count under CLUSTER_NAME); the API server retries, then drops the batch. The function log's "batch refused" lines say which.`,
  );
  return {
    Resources: Object.fromEntries([
      ...Object.entries(failedAlarms).map(([id, cluster]) => [id, failed(cluster)]),
      ...Object.entries(refusedAlarms).map(([id, cluster]) => [id, refused(cluster)]),
    ]),
  };
};
