import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { isAccepted } from './edge.ts';
import type { BatchCounts } from './pipeline.ts';
import type { BestEffortStats } from './sinks/best-effort-queue.ts';
import type { Sink } from './sinks/sink.ts';

/**
 * Sink latency buckets in seconds: a file write takes milliseconds, a slow disk or destination seconds, and the API
 * server abandons an attempt at 30 s (SINK_TIMEOUT_MS defaults to 20 s).
 */
const SINK_SECONDS_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30];

/** The receiver's Prometheus metrics: the counts the Lambda publishes as CloudWatch metrics, as counters. */
export interface RelayMetrics {
  /** What `GET /metrics` renders. */
  readonly registry: Registry;
  /**
   * Adds one answered batch: its counts and, if the API server will retry it, its status; all labelled with the
   * caller's cluster, or without that label when the relay knows none (a single-cluster relay without CLUSTER_NAME).
   */
  recordBatch(status: number, counts: BatchCounts, cluster?: string): void;
  /** The sink, timing every `send` (stored or failed) into `kube_audit_relay_sink_duration_seconds`. */
  timed(sink: Sink): Sink;
}

export interface RelayMetricsOptions {
  /** Where the metrics are registered; default a new registry, so two receivers in one process never share counts. */
  readonly registry?: Registry;
  /** Also register prom-client's process and Node.js metrics (`process_resident_memory_bytes`, ...). Default false. */
  readonly processMetrics?: boolean;
  /** Milliseconds since the epoch, for the last-event age; injectable for tests. Default Date.now. */
  readonly now?: () => number;
  /** What each best-effort output has done (FanOut.bestEffortStats), read at every scrape. Default: none. */
  readonly bestEffort?: () => readonly BestEffortStats[];
}

const clusterLabel = (cluster: string | undefined): { cluster?: string } => (cluster === undefined ? {} : { cluster });

/** The receiver's metrics, registered in `options.registry` (or a registry of their own); see docs/metrics.md. */
export function createRelayMetrics(options: RelayMetricsOptions = {}): RelayMetrics {
  const registry = options.registry ?? new Registry();
  if (options.processMetrics) collectDefaultMetrics({ register: registry });
  const now = options.now ?? Date.now;
  const counter = (name: string, help: string) => new Counter({ name: `kube_audit_relay_${name}`, help, labelNames: ['cluster'], registers: [registry] });
  const events = {
    received: counter('events_received_total', 'Audit events in the bodies of batches answered.'),
    written: counter('events_written_total', 'Audit events stored by the sink.'),
    duplicates: counter('events_duplicate_total', 'Audit events skipped because the sink had already stored them (a retried batch).'),
    filtered: counter('events_filtered_total', 'Audit events dropped by DROP_RULES.'),
    redacted: counter('events_redacted_total', 'Audit events in which redaction replaced something.'),
    truncated: counter('events_truncated_total', 'Audit events shrunk to fit MAX_EVENT_BYTES or the destination.'),
    restamped: counter('events_restamped_total', 'Audit events a destination first refused for their time and stored on a second attempt.'),
    spoofed: counter('events_spoofed_total', "Audit events that claimed another cluster than their credential's (kube-audit-relay.io/cluster overwritten)."),
    canaries: counter('events_canary_total', 'Canary events (kube-audit-relay doctor) stored like the others.'),
  };
  const bytes = counter('bytes_total', 'UTF-8 bytes of the records sent to the sink.');
  const batches = counter('batches_total', 'Batches answered, stored or refused (health checks and /metrics excluded).');
  const refused = new Counter({
    name: 'kube_audit_relay_batches_refused_total',
    help: 'Batches answered with a status outside 200-206, which the API server retries and finally drops, by status.',
    labelNames: ['status', 'cluster'],
    registers: [registry],
  });
  // When each cluster last sent an event; the age is computed at scrape time so a silent cluster's value keeps growing.
  const lastEventAt = new Map<string | undefined, number>();
  new Gauge({
    name: 'kube_audit_relay_last_event_age_seconds',
    help: 'Seconds since the relay last accepted a batch holding events from each cluster; alert when it grows past the quietest expected gap.',
    labelNames: ['cluster'],
    registers: [registry],
    collect() {
      this.reset();
      const at = now();
      for (const [cluster, time] of lastEventAt) this.set(clusterLabel(cluster), Math.max(0, (at - time) / 1000));
    },
  });
  const sinkSeconds = new Histogram({
    name: 'kube_audit_relay_sink_duration_seconds',
    help: 'Time the sink took per batch, stored or failed.',
    labelNames: ['sink'],
    buckets: SINK_SECONDS_BUCKETS,
    registers: [registry],
  });

  if (options.bestEffort) registerBestEffortMetrics(registry, options.bestEffort);

  return {
    registry,
    recordBatch(status, counts, cluster) {
      const labels = clusterLabel(cluster);
      for (const [name, metric] of Object.entries(events)) metric.inc(labels, counts[name as keyof typeof events]);
      bytes.inc(labels, counts.bytes);
      batches.inc(labels);
      if (!isAccepted(status)) refused.inc({ status: String(status), ...labels });
      else if (counts.received > 0) lastEventAt.set(cluster, now());
    },
    timed(sink) {
      return {
        name: sink.name,
        maxRecordBytes: sink.maxRecordBytes,
        async send(records, signal) {
          const stop = sinkSeconds.startTimer({ sink: sink.name });
          try {
            return await sink.send(records, signal);
          } finally {
            stop();
          }
        },
        close: () => sink.close(),
      };
    },
  };
}

/**
 * Per best-effort output (label `output`, its URI without credentials): what it holds back now, and what it sent, failed
 * to send and dropped since the relay started, read from the outputs at scrape time.
 */
function registerBestEffortMetrics(registry: Registry, stats: () => readonly BestEffortStats[]): void {
  const fromStats = (Type: typeof Counter | typeof Gauge, name: string, help: string, value: (stats: BestEffortStats) => number) =>
    new Type({
      name: `kube_audit_relay_best_effort_${name}`,
      help,
      labelNames: ['output'],
      registers: [registry],
      collect() {
        this.reset();
        for (const output of stats()) this.inc({ output: output.output }, value(output));
      },
    });
  fromStats(Gauge, 'queued_bytes', 'Bytes of events a best-effort output holds back now, waiting to be sent (at most BEST_EFFORT_QUEUE_BYTES).', (output) => output.queuedBytes);
  fromStats(Counter, 'events_sent_total', 'Events a best-effort output stored.', (output) => output.stored);
  fromStats(Counter, 'events_failed_total', 'Events a best-effort output was sent but did not store (an error or SINK_TIMEOUT_MS).', (output) => output.failed);
  fromStats(Counter, 'events_dropped_total', 'Events never sent to a best-effort output because its queue was full, or the relay stopped first.', (output) => output.dropped);
}
