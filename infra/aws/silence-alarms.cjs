// One audit-stopped alarm per cluster in CLUSTERS: a cluster's API server always produces audit events (leader
// election, controllers, probes), so a cluster that wrote none for AUDIT_STOPPED_MINUTES has stopped sending, even
// while the others keep the relay busy. The Lambda publishes EventsWritten with the sender's cluster as dimension
// Cluster (functions/aws/metrics.ts); no data at all (no invocation from that cluster) counts as none written.
'use strict';

const { CLUSTER_DIMENSION, RELAY_METRICS_NAMESPACE, RELAY_SERVICE_NAME } = require('./relay-metrics.cjs');

module.exports = async ({ resolveVariable }) => {
  const stage = await resolveVariable('sls:stage');
  const { silenceAlarms, auditStoppedMinutes, alarmActions } = await resolveVariable('self:custom.relay');
  const alarm = (cluster) => ({
    Type: 'AWS::CloudWatch::Alarm',
    Properties: {
      AlarmDescription: `kube-audit-relay ${stage} wrote no audit event from cluster ${cluster} for ${auditStoppedMinutes} minutes. Check that cluster's API server audit webhook flags and apiserver_audit_error_total, its credential, the endpoint path and the other relay alarms.`,
      Namespace: RELAY_METRICS_NAMESPACE,
      MetricName: 'EventsWritten',
      Dimensions: [
        { Name: 'service', Value: RELAY_SERVICE_NAME },
        { Name: CLUSTER_DIMENSION, Value: cluster },
      ],
      Statistic: 'Sum',
      Period: 60,
      EvaluationPeriods: auditStoppedMinutes,
      DatapointsToAlarm: auditStoppedMinutes,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
      AlarmActions: alarmActions,
    },
  });
  return { Resources: Object.fromEntries(Object.entries(silenceAlarms).map(([id, cluster]) => [id, alarm(cluster)])) };
};
