import { SinkError } from '../errors.ts';
import type { LogRecord } from '../record.ts';
import type { Sink, SinkResult } from './sink.ts';

/** Where the cluster's name goes in an output path or a log group name, e.g. `audit-{cluster}.jsonl`. */
export const CLUSTER_PLACEHOLDER = '{cluster}';

/** Whether an output path (or log group name) is a per-cluster template. */
export const isPerClusterPath = (path: string): boolean => path.includes(CLUSTER_PLACEHOLDER);

/** Settings of a sink that keeps one sink per cluster. */
export interface ClusterRoutingOptions {
  /** The routed sink's name, also the `sink` of its errors. */
  readonly name: string;
  /** Largest record every cluster's sink stores. */
  readonly maxRecordBytes: number;
  /**
   * Makes the sink of one cluster's records, once per cluster and on its first batch; `undefined` for records the
   * relay stamped with no cluster. A rejection is not remembered: the next batch of that cluster tries again.
   */
  readonly open: (cluster: string | undefined) => Promise<Sink>;
}

/**
 * One sink per cluster: each record goes to the sink of the cluster the relay stamped on it (the caller's, never the
 * one an event claimed). A batch comes from one caller, so it normally goes to one sink; should it span several, the
 * error of a failed cluster lists the records the others stored, so a retry sends only the rest.
 */
export function createClusterRoutedSink({ name, maxRecordBytes, open }: ClusterRoutingOptions): Sink {
  const sinks = new Map<string | undefined, Promise<Sink>>();
  const sinkFor = (cluster: string | undefined): Promise<Sink> => {
    let sink = sinks.get(cluster);
    if (sink === undefined) {
      sink = open(cluster);
      sink.catch(() => sinks.delete(cluster));
      sinks.set(cluster, sink);
    }
    return sink;
  };
  return {
    name,
    maxRecordBytes,
    async send(records, context) {
      const byCluster = new Map<string | undefined, LogRecord[]>();
      for (const record of records) {
        const group = byCluster.get(record.cluster) ?? [];
        group.push(record);
        byCluster.set(record.cluster, group);
      }
      const total = { written: 0, duplicates: 0, restamped: 0, calls: 0 };
      const stored: LogRecord[] = [];
      // The records of this batch not stored, as an error of this sink listing those that were.
      const failure = (error: unknown, storedOfCluster: readonly LogRecord[]): SinkError => {
        const all = [...stored, ...storedOfCluster];
        return new SinkError((error as Error).message, name, records.length - all.length, {
          cause: error,
          stored: all,
          retryable: error instanceof SinkError && error.retryable,
          ...(error instanceof SinkError && error.retryAfterMs !== undefined ? { retryAfterMs: error.retryAfterMs } : {}),
        });
      };
      for (const [cluster, group] of byCluster) {
        let sink: Sink;
        try {
          sink = await sinkFor(cluster);
        } catch (error) {
          throw failure(error, []);
        }
        let result: SinkResult;
        try {
          result = await sink.send(group, context);
        } catch (error) {
          // The usual batch, one cluster's: its sink's own error says it all.
          if (byCluster.size === 1 && error instanceof SinkError) throw error;
          throw failure(error, error instanceof SinkError ? error.stored : []);
        }
        stored.push(...group);
        total.written += result.written;
        total.duplicates += result.duplicates;
        total.restamped += result.restamped;
        total.calls += result.calls;
      }
      return total;
    },
    async close() {
      const opened = await Promise.allSettled(sinks.values());
      await Promise.all(opened.flatMap((entry) => (entry.status === 'fulfilled' ? [entry.value.close()] : [])));
    },
  };
}

/**
 * A file per cluster, opened on the cluster's first batch: `template` with `{cluster}` replaced by each record's
 * cluster. Cluster names are checked where they are configured (credential lines, certificates, CLUSTER_NAME with a
 * template) to be file-name safe. Records without a cluster cannot be placed and fail the batch (503), which start-up
 * checks make impossible.
 */
export function createPerClusterSink(template: string, open: (path: string) => Promise<Sink>): Sink {
  return createClusterRoutedSink({
    name: 'file',
    maxRecordBytes: Number.MAX_SAFE_INTEGER,
    open: async (cluster) => {
      if (cluster === undefined) {
        throw new SinkError(`an event has no cluster, so ${template} names no file: set --cluster (CLUSTER_NAME) or name the cluster on every credential line`, 'file', 0);
      }
      try {
        return await open(template.replaceAll(CLUSTER_PLACEHOLDER, cluster));
      } catch (error) {
        throw new SinkError(`cannot open the output of cluster ${cluster}: ${(error as Error).message}`, 'file', 0, { cause: error });
      }
    },
  });
}
