// Where the Lambda's metrics are: the namespace and service name it publishes under (serverless.yml's
// POWERTOOLS_METRICS_NAMESPACE and POWERTOOLS_SERVICE_NAME, defaults in functions/aws/metrics.ts) and its per-cluster
// dimension. The stack's alarms and dashboard select the metrics by exactly these; test/unit/relay-metrics.test.ts
// fails if any of those places drifts from this file.
'use strict';

module.exports = {
  RELAY_METRICS_NAMESPACE: 'KubeAuditRelay',
  RELAY_SERVICE_NAME: 'kube-audit-relay',
  CLUSTER_DIMENSION: 'Cluster',
};
