// The Azure function's tier settings: TIERS_PRESET / TIERS_FILE with the cold stream and an archive container,
// refused at start when the routing reaches a tier that has no output.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readAzureSettings } from '../../functions/azure/settings.ts';
import { ConfigError } from '../../src/errors.ts';

const BASE = { LOGS_INGESTION_ENDPOINT: 'https://dce.example.ingest.monitor.azure.com', LOGS_DCR_IMMUTABLE_ID: 'dcr-0123456789abcdef0123456789abcdef', AUTH_MODE: 'none' };

const dir = mkdtempSync(join(tmpdir(), 'kar-tiers-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const tiersFile = join(dir, 'tiers.yaml');
writeFileSync(tiersFile, 'default: cold\nrules: [{tier: hot, verbs: [create, update, patch, delete]}]\n');

function problemsOf(env: Record<string, string>): string[] {
  try {
    readAzureSettings(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return [...error.problems];
  }
  return [];
}

describe('azure tier settings', () => {
  it('binds cold to COLD_LOGS_STREAM_NAME', () => {
    const settings = readAzureSettings({ ...BASE, TIERS_PRESET: 'minimal' });
    assert.equal(settings.tiers?.default, 'drop');
    assert.equal(settings.coldStreamName, undefined);
    const cold = readAzureSettings({ ...BASE, TIERS_FILE: tiersFile, COLD_LOGS_STREAM_NAME: 'Custom-KubeAuditCold' });
    assert.equal(cold.coldStreamName, 'Custom-KubeAuditCold');
    assert.equal(cold.tiers?.rules.length, 1);
    assert.equal(cold.coldRuleId, undefined, 'the cold stream is declared by LOGS_DCR_IMMUTABLE_ID unless said otherwise');
  });

  it('takes the cold stream from a rule of its own with COLD_LOGS_DCR_IMMUTABLE_ID, as the template makes it', () => {
    const coldRule = 'dcr-fedcba9876543210fedcba9876543210';
    const cold = readAzureSettings({ ...BASE, TIERS_FILE: tiersFile, COLD_LOGS_STREAM_NAME: 'Custom-KubeAuditCold', COLD_LOGS_DCR_IMMUTABLE_ID: coldRule });
    assert.deepEqual([cold.ruleId, cold.coldRuleId], [BASE.LOGS_DCR_IMMUTABLE_ID, coldRule]);
    assert.deepEqual(problemsOf({ ...BASE, COLD_LOGS_DCR_IMMUTABLE_ID: 'my-cold-rule' }), [
      'COLD_LOGS_DCR_IMMUTABLE_ID: must be the rule\'s immutable id, "dcr-" and 32 hex digits (az monitor data-collection rule show --query immutableId)',
      'COLD_LOGS_DCR_IMMUTABLE_ID: is set without COLD_LOGS_STREAM_NAME, the stream it declares: set both or neither',
    ]);
  });

  it('refuses a routing without the streams it needs, and a bad stream name', () => {
    assert.deepEqual(problemsOf({ ...BASE, TIERS_PRESET: 'security' }), [
      'TIERS_PRESET: sends events to the cold tier, but no output is bound to it: set COLD_LOGS_STREAM_NAME, or list an output in COLD_OUTPUTS; or send those events to another tier with a tiers file (TIERS_FILE)',
      'TIERS_PRESET: sends events to the archive tier, but no output is bound to it: list an s3:// or Azure Blob archive in OUTPUTS, or list any output in ARCHIVE_OUTPUTS; or send those events to another tier with a tiers file (TIERS_FILE)',
    ]);
    const security = readAzureSettings({ ...BASE, TIERS_PRESET: 'security', COLD_LOGS_STREAM_NAME: 'Custom-KubeAuditCold', OUTPUTS: 'https://auditarchive.blob.core.windows.net/audit/aks/' });
    assert.deepEqual(security.outputs.guaranteed.map((spec) => spec.kind), ['azure-blob']);
    assert.deepEqual(problemsOf({ ...BASE, TIERS_PRESET: 'minimal', COLD_LOGS_STREAM_NAME: 'cold' }), [
      'COLD_LOGS_STREAM_NAME: must be a custom stream the rule declares, "Custom-" and letters, digits or underscores',
      // minimal routes nothing to cold: a cold stream would never be written, as the Lambda already says of its group.
      'COLD_LOGS_STREAM_NAME: is set, but TIERS_PRESET never sends events to the cold tier: set a routing that does, or remove it',
    ]);
  });
});
