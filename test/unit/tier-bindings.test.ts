// Which output stores which tier, and the start-time checks of a routing against its outputs (src/tiers/tier-bindings.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SettingsReader } from '../../src/config.ts';
import { parseOutputUri } from '../../src/sinks/output-uri.ts';
import { readOutputsConfig } from '../../src/sinks/outputs.ts';
import { outputsByTier } from '../../src/tiers/tier-bindings.ts';
import { readTierBindings, type EntryPointTiers } from '../../src/tiers/tier-config.ts';

/** The problems readTierBindings reports for these settings, after the outputs read cleanly. */
function problemsOf(env: Record<string, string>, entry: EntryPointTiers = {}): string[] {
  const reader = new SettingsReader(env);
  const outputs = readOutputsConfig(reader, { defaultOutput: '-' });
  assert.deepEqual(reader.problems, [], 'the outputs themselves are valid');
  readTierBindings(reader, outputs, entry);
  return reader.problems;
}

describe('tier bindings', () => {
  it('binds OUTPUTS by kind, archives to archive and the rest to hot, and the tier settings as they say', () => {
    const specs = (...uris: string[]) => uris.map(parseOutputUri);
    const byTier = outputsByTier(specs('/var/log/hot.jsonl', 's3://bucket/audit/', 'https://acct.blob.core.windows.net/audit/'), {
      hot: specs('s3://bucket/searchable/'),
      cold: specs('/var/log/cold.jsonl'),
      archive: specs('/var/log/archive.jsonl'),
    });
    assert.deepEqual(byTier.hot.map((spec) => spec.kind), ['file', 's3'], 'an explicit binding wins over the kind');
    assert.deepEqual(byTier.cold.map((spec) => spec.kind), ['file']);
    assert.deepEqual(byTier.archive.map((spec) => spec.kind), ['s3', 'azure-blob', 'file']);
  });

  it('refuses an output listed twice, within one setting or across tiers, naming where it was first', () => {
    const problems = (env: Record<string, string>) => {
      const reader = new SettingsReader(env);
      readOutputsConfig(reader, { defaultOutput: '-' });
      return reader.problems;
    };
    assert.deepEqual(problems({ OUTPUTS: '/var/log/audit.jsonl', COLD_OUTPUTS: 'file:///var/log/audit.jsonl' }), [
      'COLD_OUTPUTS: /var/log/audit.jsonl is already listed in OUTPUTS: list each output once (one output stores one tier; "archive: always" copies events to the archive)',
    ]);
    assert.match(problems({ OUTPUTS: '-', BEST_EFFORT_OUTPUTS: '-' })[0]!, /^BEST_EFFORT_OUTPUTS: - is already listed in OUTPUTS/);
    assert.match(problems({ OUTPUTS: 's3://bucket/audit/,s3://bucket/audit/' })[0]!, /^OUTPUTS: s3:\/\/bucket\/audit\/ is already listed: list each output once/);
    assert.deepEqual(problems({ OUTPUTS: 's3://bucket/audit/,s3://bucket/other/', COLD_OUTPUTS: '/var/log/cold.jsonl' }), [], 'other prefixes and files are other outputs');
    assert.match(problems({ OUTPUTS: '/var/log/audit.jsonl', HOT_OUTPUTS: '/var/log/../log/audit.jsonl' })[0]!, /^HOT_OUTPUTS: .* is already listed in OUTPUTS/, 'one file by another path');
  });

  it('refuses a DEDUPE_CAPACITY beyond what is allocated at start without a second thought, naming the setting', () => {
    const reader = new SettingsReader({ DEDUPE_CAPACITY: '100000000' });
    readOutputsConfig(reader, { defaultOutput: '-' });
    assert.deepEqual(reader.problems, ['DEDUPE_CAPACITY: must be a whole number from 0 to 10000000, not "100000000"']);
  });

  it('accepts a routing whose every tier has an output', () => {
    assert.deepEqual(problemsOf({ TIERS_PRESET: 'security', OUTPUTS: '/var/log/hot.jsonl,s3://bucket/audit/', COLD_OUTPUTS: '/var/log/cold.jsonl' }), []);
    assert.deepEqual(problemsOf({ TIERS: '{default: hot, archive: always}', OUTPUTS: '-,s3://bucket/audit/' }), [], 'archive: always reaches the archive');
  });

  it('refuses an empty tier and an output nothing reaches, each once, naming the setting', () => {
    assert.deepEqual(problemsOf({ TIERS: '{default: cold}', OUTPUTS: '/var/log/hot.jsonl' }), [
      'OUTPUTS: /var/log/hot.jsonl stores the hot tier, but TIERS never sends events to the hot tier: list it under a tier the routing reaches, e.g. COLD_OUTPUTS',
      'TIERS: sends events to the cold tier, but no output is bound to it: list an output in COLD_OUTPUTS; or send those events to another tier with a tiers file (TIERS_FILE)',
    ]);
  });

  it('does not refuse what an entry point always stores itself, and refuses its optional destination without a routing', () => {
    // The functions' hot destination is required by them; a routing without hot events leaves it unused, not wrong.
    assert.deepEqual(problemsOf({ TIERS: '{default: cold}', COLD_OUTPUTS: '/var/log/cold.jsonl' }, { alwaysStored: ['hot'] }), []);
    assert.deepEqual(problemsOf({}, { own: { cold: { setting: 'COLD_LOG_GROUP_NAME', given: true } } }), [
      'COLD_LOG_GROUP_NAME: is set, but no tier routing is set: set TIERS_PRESET, TIERS or TIERS_FILE, or remove it',
    ]);
  });

  it('says nothing more about outputs when the routing itself cannot be read', () => {
    assert.deepEqual(problemsOf({ TIERS_PRESET: 'cheapest', COLD_OUTPUTS: '/var/log/cold.jsonl' }), ['TIERS_PRESET: must be one of security, compliance, minimal, not "cheapest"']);
  });
});
