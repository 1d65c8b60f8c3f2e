import { decodeBody } from '../audit/decode.ts';
import type { AuditEvent } from '../audit/types.ts';
import type { PipelineConfig } from '../config.ts';
import { createPipeline } from '../pipeline.ts';
import { type EventBatch, eventListBody } from '../replay/event-log.ts';
import { PUT_LOG_EVENTS_LIMITS } from '../sinks/cloudwatch-pack.ts';
import { MAX_EVENT_BYTES as AZURE_MAX_EVENT_BYTES } from '../sinks/azure-monitor.ts';
import { createTieredSink } from '../sinks/tiered.ts';
import { Tier, type TierRouting } from '../tiers/tier-rule.ts';
import { createMeasuringSink, type TierVolume } from './measuring-sink.ts';
import type { CostPlatform, Prices } from './prices.ts';
import { archivedBytes, billedBytes, ReceivedEvent } from './record-size.ts';

/** A sample run through the pipeline: what each tier's destination would have stored, and the native equivalent. */
export interface SampleVolume {
  /** Events in the sample. */
  readonly events: number;
  /** UTF-8 bytes of the sample's events as received. */
  readonly bytes: number;
  /** Per tier; drop counts events removed by drop rules or routed to drop (0 bytes). */
  readonly tiers: Readonly<Record<Tier, TierVolume>>;
  /** Bytes the platform's own audit logging would bill for every event of the sample, unchanged. */
  readonly nativeBytes: number;
  /** EventList bodies the sample made: the batches the API server would have sent. */
  readonly batches: number;
  /** Time the pipeline took per batch here, without any network: for comparison with the stated compute time. */
  readonly pipelineMsPerBatch: number;
}

/** Why the sample could not be run; the message never quotes event content. */
export class SampleError extends Error {
  override readonly name = 'SampleError';
}

const MAX_RECORD_BYTES: Record<CostPlatform, number> = {
  aws: PUT_LOG_EVENTS_LIMITS.maxBytes - PUT_LOG_EVENTS_LIMITS.overheadBytes,
  azure: AZURE_MAX_EVENT_BYTES,
};

/**
 * Runs the sample's batches, as EventList bodies, through the real pipeline (decode, validate, drop rules, redaction, truncation, render) into a
 * tiered sink with the routing, whose tiers measure what their destination would bill. Each body is also decoded on
 * its own to size every event as the platform's native audit logging would store it.
 */
export async function measureSample(batches: readonly EventBatch[], options: { config: PipelineConfig; routing: TierRouting; platform: CostPlatform; prices: Prices }): Promise<SampleVolume> {
  const { platform, prices } = options;
  const overhead = prices.overheadBytesPerEvent;
  const sized = (tier: Tier) => createMeasuringSink(`${tier}-measure`, MAX_RECORD_BYTES[platform], (record) => (tier === Tier.Archive ? archivedBytes(record) : billedBytes(platform, record, overhead)));
  const hot = sized(Tier.Hot);
  const cold = sized(Tier.Cold);
  const archive = sized(Tier.Archive);
  const sink = createTieredSink({ routing: options.routing, sinks: { hot, cold, archive } });
  const pipeline = createPipeline({ config: options.config, sink, routing: options.routing });
  let events = 0;
  let bytes = 0;
  let nativeBytes = 0;
  let dropped = 0;
  let pipelineMs = 0;
  for (const batch of batches) {
    const { lines } = batch;
    const body = Buffer.from(eventListBody(batch), 'utf8');
    const result = await pipeline.receive({ method: 'POST', path: '/', headers: {}, body });
    if (result.status !== 200) {
      const where = lines[0] === lines[1] ? `line ${lines[0]}` : `lines ${lines[0]}-${lines[1]} (items count from the first)`;
      throw new SampleError(`the pipeline refused the sample's ${where} with ${result.status}: ${result.message}`);
    }
    pipelineMs += result.durationMs;
    dropped += result.counts.filtered;
    for (const item of decodeBody(body).items) {
      events++;
      bytes += item.utf8.length;
      nativeBytes += billedBytes(platform, new ReceivedEvent(item.utf8.toString('utf8'), item.utf8.length, item.value as AuditEvent, item.listApiVersion), overhead);
    }
  }
  return {
    events,
    bytes,
    tiers: { hot: hot.volume, cold: cold.volume, archive: archive.volume, drop: { events: dropped, bytes: 0, batches: 0 } },
    nativeBytes,
    batches: batches.length,
    pipelineMsPerBatch: batches.length === 0 ? 0 : pipelineMs / batches.length,
  };
}
