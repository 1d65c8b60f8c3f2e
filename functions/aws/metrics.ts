import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Env } from '../../src/config.ts';
import { isAccepted } from '../../src/edge.ts';
import type { BatchCounts } from '../../src/pipeline.ts';
import type { Sink } from '../../src/sinks/sink.ts';

/** Metric names, one per count the handler publishes (EMF, in the POWERTOOLS_METRICS_NAMESPACE namespace). */
export const MetricName = {
  EventsReceived: 'EventsReceived',
  EventsWritten: 'EventsWritten',
  EventsDuplicate: 'EventsDuplicate',
  EventsFiltered: 'EventsFiltered',
  EventsRedacted: 'EventsRedacted',
  EventsTruncated: 'EventsTruncated',
  EventsRestamped: 'EventsRestamped',
  /** Events best-effort outputs missed because their queue was full. */
  EventsDropped: 'EventsDropped',
  BatchesRejected: 'BatchesRejected',
  BatchesRefused: 'BatchesRefused',
  BatchesFailed: 'BatchesFailed',
  Bytes: 'Bytes',
  SinkLatency: 'SinkLatency',
} as const;

/** The dimension, besides Powertools' `service`, that tells apart the relays of several clusters in one account. */
export const CLUSTER_DIMENSION = 'Cluster';

/**
 * The handler's metrics: POWERTOOLS_SERVICE_NAME (default kube-audit-relay) and POWERTOOLS_METRICS_NAMESPACE (default
 * KubeAuditRelay). Each invocation's metrics carry dimension `Cluster` (see addBatchMetrics); the stack's alarms
 * (infra/aws/alarms.yml) select metrics by exactly these dimensions.
 */
export function createRelayMetrics(env: Env): Metrics {
  return new Metrics({
    serviceName: env.POWERTOOLS_SERVICE_NAME || 'kube-audit-relay',
    namespace: env.POWERTOOLS_METRICS_NAMESPACE || 'KubeAuditRelay',
  });
}

/**
 * Adds one invocation's counts; every count is published, zeros included, so sums and averages stay right. `cluster`
 * is the caller's (named by its credential) or CLUSTER_NAME, and becomes dimension `Cluster` of every metric the
 * invocation publishes, SinkLatency included; none when neither is known.
 */
export function addBatchMetrics(metrics: Metrics, status: number, counts: BatchCounts, cluster: string | undefined): void {
  if (cluster) metrics.addDimension(CLUSTER_DIMENSION, cluster);
  metrics.addMetric(MetricName.EventsReceived, MetricUnit.Count, counts.received);
  metrics.addMetric(MetricName.EventsWritten, MetricUnit.Count, counts.written);
  metrics.addMetric(MetricName.EventsDuplicate, MetricUnit.Count, counts.duplicates);
  metrics.addMetric(MetricName.EventsFiltered, MetricUnit.Count, counts.filtered);
  metrics.addMetric(MetricName.EventsRedacted, MetricUnit.Count, counts.redacted);
  metrics.addMetric(MetricName.EventsTruncated, MetricUnit.Count, counts.truncated);
  metrics.addMetric(MetricName.EventsRestamped, MetricUnit.Count, counts.restamped);
  metrics.addMetric(MetricName.EventsDropped, MetricUnit.Count, counts.dropped);
  metrics.addMetric(MetricName.BatchesRejected, MetricUnit.Count, isAccepted(status) ? 0 : 1);
  // By status class: 4xx is the request's (credentials, body), 5xx the relay's (configuration, token, CloudWatch).
  metrics.addMetric(MetricName.BatchesRefused, MetricUnit.Count, status >= 400 && status <= 499 ? 1 : 0);
  metrics.addMetric(MetricName.BatchesFailed, MetricUnit.Count, status >= 500 ? 1 : 0);
  metrics.addMetric(MetricName.Bytes, MetricUnit.Bytes, counts.bytes);
}

/**
 * The sink, reporting how long each `send` took (stored or failed) as SinkLatency. A Lambda execution environment runs
 * one invocation at a time, so the metric lands in the invocation that caused it.
 */
export function withSinkLatency(sink: Sink, metrics: Metrics): Sink {
  return {
    name: sink.name,
    maxRecordBytes: sink.maxRecordBytes,
    async send(records, context) {
      const started = performance.now();
      try {
        return await sink.send(records, context);
      } finally {
        metrics.addMetric(MetricName.SinkLatency, MetricUnit.Milliseconds, performance.now() - started);
      }
    },
    close: () => sink.close(),
  };
}
