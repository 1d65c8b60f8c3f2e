// Benchmark 3: the CloudWatch Logs sink through the real SDK against the local stand-in: PutLogEvents calls per batch
// against the packing lower bound, and time per 400-event batch against the SDK sending the same calls directly.
import { PutLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { readPipelineConfig, SettingsReader } from '../src/config.ts';
import type { LogRecord } from '../src/record.ts';
import { createPipeline } from '../src/pipeline.ts';
import { createCloudWatchSink } from '../src/sinks/cloudwatch.ts';
import { packCalls, packLowerBound } from '../src/sinks/cloudwatch-pack.ts';
import type { Sink, SinkResult } from '../src/sinks/sink.ts';
import { standInClient } from '../test/support/cloudwatch-client.ts';
import { startCloudWatchLogsStandIn } from '../tools/dev/cloudwatch-logs-standin.ts';
import { measure, ratio } from './harness.ts';
import { BATCH_SIZES, eventListBody, MIXES, type Mix } from './inputs.ts';
import { BENCH_ENV, postRequest } from './pipeline.ts';

const LOG_GROUP = '/kube-audit-relay/bench/audit';

export interface PackingRow {
  readonly mix: Mix;
  readonly events: number;
  readonly recordBytes: number;
  readonly calls: number;
  readonly lowerBound: number;
}

export interface CloudWatchTimingRow {
  readonly mix: Mix;
  readonly events: number;
  /** Pipeline and sink, per 400-event batch. */
  readonly relayMs: number;
  readonly relaySpreadMs: readonly [number, number];
  /** The SDK alone sending the same packed calls (4 at a time, as the sink does). */
  readonly sdkOnlyMs: number;
  readonly vsSdkOnly: number;
}

/** Passes calls through, keeping the last batch's records and result. */
function recording(sink: Sink): Sink & { last?: { records: readonly LogRecord[]; result: SinkResult } } {
  const wrapper: Sink & { last?: { records: readonly LogRecord[]; result: SinkResult } } = {
    name: sink.name,
    maxRecordBytes: sink.maxRecordBytes,
    async send(records, context) {
      const result = await sink.send(records, context);
      wrapper.last = { records, result };
      return result;
    },
    close: () => sink.close(),
  };
  return wrapper;
}

export async function benchCloudWatch(): Promise<{ packing: PackingRow[]; timing: CloudWatchTimingRow[] }> {
  const standIn = await startCloudWatchLogsStandIn();
  standIn.createLogGroup(LOG_GROUP);
  const client = standInClient(standIn.endpoint);
  const sink = recording(createCloudWatchSink({ client, logGroupName: LOG_GROUP }));
  const pipeline = createPipeline({ config: readPipelineConfig(new SettingsReader(BENCH_ENV)), sink });
  let firstId = 0;
  const nextBody = (mix: Mix, events: number): Buffer => {
    const body = eventListBody(mix, events, { firstId, at: Date.now() - 60_000 });
    firstId += events;
    return body;
  };

  const packing: PackingRow[] = [];
  for (const mix of MIXES) {
    for (const events of BATCH_SIZES) {
      const result = await pipeline.receive(postRequest(nextBody(mix, events)));
      if (result.status !== 200 || result.counts.written !== events || !sink.last) {
        throw new Error(`cloudwatch bench: ${mix} x ${events} answered ${result.status} (${result.message})`);
      }
      packing.push({
        mix,
        events,
        recordBytes: result.counts.bytes,
        calls: sink.last.result.calls,
        lowerBound: packLowerBound(sink.last.records),
      });
    }
  }

  const timing: CloudWatchTimingRow[] = [];
  for (const mix of MIXES) {
    let body = nextBody(mix, 400);
    const sample = await pipeline.receive(postRequest(body));
    const calls = packCalls(sink.last!.records).map((records) => records.map(({ timestamp, json }) => ({ timestamp, message: json })));
    const measured = await measure([
      {
        name: 'relay',
        beforeEach: () => {
          body = nextBody(mix, 400);
        },
        run: async () => {
          const result = await pipeline.receive(postRequest(body));
          if (result.status !== 200) throw new Error(result.message);
        },
      },
      {
        name: 'sdk',
        run: async () => {
          for (let i = 0; i < calls.length; i += 4) {
            await Promise.all(
              calls.slice(i, i + 4).map((logEvents) => client.send(new PutLogEventsCommand({ logGroupName: LOG_GROUP, logStreamName: standIn.streams(LOG_GROUP)[0]!, logEvents }))),
            );
          }
        },
      },
    ]);
    if (sample.status !== 200) throw new Error(sample.message);
    const relay = measured.get('relay')!;
    const sdkOnlyMs = measured.get('sdk')!.medianMs;
    timing.push({
      mix,
      events: 400,
      relayMs: relay.medianMs,
      relaySpreadMs: [relay.p25Ms, relay.p75Ms],
      sdkOnlyMs,
      vsSdkOnly: ratio(relay.medianMs, sdkOnlyMs),
    });
  }
  client.destroy();
  await standIn.close();
  return { packing, timing };
}
