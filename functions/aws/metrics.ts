import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { BatchCounts, Sink } from '../../src/index.ts';

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
  Bytes: 'Bytes',
  SinkLatency: 'SinkLatency',
} as const;

/** The API server counts a batch as delivered only for these statuses; anything else it retries. */
export const isAccepted = (status: number): boolean => status >= 200 && status <= 206;

/** Adds one invocation's counts; every count is published, zeros included, so sums and averages stay right. */
export function addBatchMetrics(metrics: Metrics, status: number, counts: BatchCounts): void {
  metrics.addMetric(MetricName.EventsReceived, MetricUnit.Count, counts.received);
  metrics.addMetric(MetricName.EventsWritten, MetricUnit.Count, counts.written);
  metrics.addMetric(MetricName.EventsDuplicate, MetricUnit.Count, counts.duplicates);
  metrics.addMetric(MetricName.EventsFiltered, MetricUnit.Count, counts.filtered);
  metrics.addMetric(MetricName.EventsRedacted, MetricUnit.Count, counts.redacted);
  metrics.addMetric(MetricName.EventsTruncated, MetricUnit.Count, counts.truncated);
  metrics.addMetric(MetricName.EventsRestamped, MetricUnit.Count, counts.restamped);
  metrics.addMetric(MetricName.EventsDropped, MetricUnit.Count, counts.dropped);
  metrics.addMetric(MetricName.BatchesRejected, MetricUnit.Count, isAccepted(status) ? 0 : 1);
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
