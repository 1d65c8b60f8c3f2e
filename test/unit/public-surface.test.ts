// What src/index.ts offers the entry points: a changed list is a deliberate change, and nothing an entry point
// needs is defined but left out (every error class, every sink factory).
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { test } from 'node:test';
import * as errors from '../../src/errors.ts';
import * as surface from '../../src/index.ts';

test('the exported names', () => {
  assert.deepEqual(Object.keys(surface).sort(), [
    'AKS_AUDIT_COLUMNS',
    'Annotation',
    'AuditApiVersion',
    'CLUSTER_PLACEHOLDER',
    'ConfigError',
    'DEFAULT_MAX_BODY_BYTES',
    'DEFAULT_MAX_EVENT_BYTES',
    'DEFAULT_SINK_TIMEOUT_MS',
    'Level',
    'PRESETS',
    'RelayError',
    'RequestError',
    'SettingsReader',
    'SinkError',
    'Stage',
    'TIERS',
    'Tier',
    'batchLogLevel',
    'batchTally',
    'checkEveryCallerHasACluster',
    'clientCertificateSubject',
    'createAzureBlobArchiveSink',
    'createAzureMonitorSink',
    'createCloudWatchClusterSink',
    'createCloudWatchSink',
    'createClusterRoutedSink',
    'createFileSink',
    'createHttpForwardSink',
    'createOutputs',
    'createPerClusterSink',
    'createPipeline',
    'createS3ArchiveSink',
    'createStreamSink',
    'createTieredSink',
    'emptyCounts',
    'isAccepted',
    'jsonAnswer',
    'reachableTiers',
    'readOutputsConfig',
    'readPipelineConfig',
    'readTierBindings',
    'readTierRouting',
    'recordKey',
    'recordWith',
    'toAksAuditRow',
    'withDeduplication',
    'withRetry',
  ]);
});

test('every error class is exported', () => {
  for (const name of Object.keys(errors)) assert.ok(name in surface, `${name} is defined in errors.ts but not exported`);
});

test('every sink module offers its factory', async () => {
  const sinks = readdirSync(new URL('../../src/sinks/', import.meta.url)).filter((file) => file.endsWith('.ts'));
  for (const file of sinks) {
    const module = (await import(`../../src/sinks/${file}`)) as Record<string, unknown>;
    for (const name of Object.keys(module).filter((key) => /^create\w+Sink$/.test(key))) {
      assert.equal((surface as Record<string, unknown>)[name], module[name], `${name} from ${file}`);
    }
  }
});
