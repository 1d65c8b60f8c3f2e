import { SinkError } from '../errors.ts';
import type { LogRecord } from '../record.ts';
import type { Sink, SinkResult } from './sink.ts';

/** Where the cluster's name goes in an output path, e.g. `audit-{cluster}.jsonl`. */
const CLUSTER_PLACEHOLDER = '{cluster}';

/** Whether an output path is a per-cluster template. */
export const isPerClusterPath = (path: string): boolean => path.includes(CLUSTER_PLACEHOLDER);

/**
 * One sink per cluster, opened on the cluster's first batch: `template` with `{cluster}` replaced by each record's
 * cluster. Cluster names are checked where they are configured (credential lines, certificates, CLUSTER_NAME with a
 * template) to be file-name safe. A batch comes from one caller, so it normally goes to one sink; records without a
 * cluster cannot be placed and fail the batch (503), which start-up checks make impossible.
 */
export function createPerClusterSink(template: string, open: (path: string) => Promise<Sink>): Sink {
  const sinks = new Map<string, Promise<Sink>>();
  const sinkFor = (cluster: string): Promise<Sink> => {
    let sink = sinks.get(cluster);
    if (sink === undefined) {
      sink = open(template.replaceAll(CLUSTER_PLACEHOLDER, cluster));
      // A file that could not be opened is tried again on the next batch rather than remembered as failed.
      sink.catch(() => sinks.delete(cluster));
      sinks.set(cluster, sink);
    }
    return sink;
  };
  return {
    name: 'file',
    maxRecordBytes: Number.MAX_SAFE_INTEGER,
    async send(records, context) {
      const byCluster = new Map<string, LogRecord[]>();
      for (const record of records) {
        if (record.cluster === undefined) {
          throw new SinkError(`an event has no cluster, so ${template} names no file: set --cluster (CLUSTER_NAME) or name the cluster on every credential line`, 'file', records.length);
        }
        const group = byCluster.get(record.cluster) ?? [];
        group.push(record);
        byCluster.set(record.cluster, group);
      }
      const total = { written: 0, duplicates: 0, restamped: 0, calls: 0 };
      for (const [cluster, group] of byCluster) {
        let sink: Sink;
        try {
          sink = await sinkFor(cluster);
        } catch (error) {
          throw new SinkError(`cannot open the output of cluster ${cluster}: ${(error as Error).message}`, 'file', group.length, { cause: error });
        }
        const result: SinkResult = await sink.send(group, context);
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
