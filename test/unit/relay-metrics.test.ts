// The Lambda publishes its metrics under a namespace, a service name and a Cluster dimension; the stack's alarms and
// dashboard find them by exactly those. They are written once, in infra/aws/relay-metrics.cjs, except where the
// language cannot read it (serverless.yml's environment, the Lambda's defaults): those are held to it here.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, test } from 'node:test';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { parse } from 'yaml';
import { createRelayMetrics } from '../../functions/aws/metrics.ts';

const require = createRequire(import.meta.url);
const names = require('../../infra/aws/relay-metrics.cjs') as { RELAY_METRICS_NAMESPACE: string; RELAY_SERVICE_NAME: string; CLUSTER_DIMENSION: string };
const infra = new URL('../../infra/aws/', import.meta.url);

/** Namespace and dimensions of one metric as the Lambda publishes it (its EMF), with the default settings. */
function published(): { namespace: string; dimensions: Record<string, string> } {
  const metrics = createRelayMetrics({});
  metrics.addDimension(names.CLUSTER_DIMENSION, 'prod-eu');
  metrics.addMetric('EventsWritten', MetricUnit.Count, 1);
  const emf = metrics.serializeMetrics() as unknown as Record<string, unknown> & { _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][] }[] } };
  const [directive] = emf._aws.CloudWatchMetrics;
  return { namespace: directive!.Namespace, dimensions: Object.fromEntries(directive!.Dimensions[0]!.map((name) => [name, String(emf[name])])) };
}

describe('the Lambda metrics namespace and service name, written once', () => {
  test('the Lambda publishes under the names of relay-metrics.cjs, by default and as serverless.yml sets them', () => {
    assert.deepEqual(published(), { namespace: names.RELAY_METRICS_NAMESPACE, dimensions: { service: names.RELAY_SERVICE_NAME, [names.CLUSTER_DIMENSION]: 'prod-eu' } });
    const environment = (parse(readFileSync(new URL('../../serverless.yml', import.meta.url), 'utf8')) as { provider: { environment: Record<string, unknown> } }).provider.environment;
    assert.equal(environment.POWERTOOLS_METRICS_NAMESPACE, names.RELAY_METRICS_NAMESPACE);
    assert.equal(environment.POWERTOOLS_SERVICE_NAME, names.RELAY_SERVICE_NAME);
  });

  test('the batch and audit-stopped alarms select exactly the metrics the Lambda publishes', async () => {
    const relay = { failedAlarms: { BatchesFailedAlarm: 'prod-eu' }, refusedAlarms: { BatchesRefusedAlarm: 'prod-eu' }, silenceAlarms: { AuditStoppedAlarm: 'prod-eu' }, auditStoppedMinutes: 15, alarmActions: [] };
    const resolveVariable = async (name: string): Promise<unknown> => (name === 'sls:stage' ? 'test' : name === 'self:custom.relay' ? relay : assert.fail(`unexpected ${name}`));
    const { namespace, dimensions } = published();
    const alarms = [];
    for (const file of ['batch-alarms.cjs', 'silence-alarms.cjs']) {
      const build = require(new URL(file, infra).pathname) as (context: { resolveVariable: typeof resolveVariable }) => Promise<{ Resources: Record<string, { Properties: { Namespace: string; Dimensions: { Name: string; Value: string }[] } }> }>;
      alarms.push(...Object.values((await build({ resolveVariable })).Resources));
    }
    assert.equal(alarms.length, 3);
    for (const { Properties } of alarms) {
      assert.deepEqual({ namespace: Properties.Namespace, dimensions: Object.fromEntries(Properties.Dimensions.map(({ Name, Value }) => [Name, Value])) }, { namespace, dimensions });
    }
  });

  test('no stack module spells the namespace or the service dimension itself', () => {
    const spelled = new RegExp(`${names.RELAY_METRICS_NAMESPACE}|'service', '|Name: 'service', Value: '`);
    for (const file of readdirSync(infra).filter((name) => name.endsWith('.cjs') && name !== 'relay-metrics.cjs')) {
      assert.ok(!spelled.test(readFileSync(new URL(file, infra), 'utf8')), `${file}: require the names from relay-metrics.cjs`);
    }
  });
});
