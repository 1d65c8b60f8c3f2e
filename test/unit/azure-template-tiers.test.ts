// Which tier routings the template deploys (issues 15, 16): TIERS_PRESET against the cold table and the archive
// container. For every preset x coldTablePlan x archiveContainer, the template refuses exactly the combinations whose
// app settings the function's own reader (readAzureSettings) refuses, so nothing deploys that answers 500 to every
// batch; and what it accepts, the function reads as the preset with its cold stream and archive.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readAzureSettings } from '../../functions/azure/settings.ts';
import { PRESET_NAMES, PRESETS, type PresetName } from '../../src/tiers/presets.ts';
import { appSettings, expand, template } from '../support/azure-deployment.ts';

const ARCHIVE_URL = 'https://karauditarc0123456789ab.blob.core.windows.net/kube-audit-archive/';

/**
 * The tier settings a deployment of these parameters gives the app, as the platform resolves them (the rules'
 * immutable ids, the archive account's endpoint): the template's own for the combinations it accepts (checked below).
 */
function tierSettings(preset: string, plan: string, archive: string): Record<string, string> {
  const cold = plan !== 'none';
  return {
    TIERS_PRESET: preset === 'none' ? '' : preset,
    TIERS: '',
    COLD_LOGS_STREAM_NAME: cold ? 'Custom-KubeAuditCold' : '',
    COLD_LOGS_DCR_IMMUTABLE_ID: cold ? 'dcr-fedcba9876543210fedcba9876543210' : '',
    OUTPUTS: archive === 'create' ? ARCHIVE_URL : '',
  };
}

/** The settings of the default deployment that the platform resolves (ingestion endpoint, rule id, token), resolved. */
const RESOLVED = {
  LOGS_INGESTION_ENDPOINT: 'https://kar-dce-x.westeurope-1.ingest.monitor.azure.com',
  LOGS_DCR_IMMUTABLE_ID: 'dcr-0123456789abcdef0123456789abcdef',
  AUTH_TOKENS: '0123456789abcdef0123456789abcdef',
};

const PRESETS_OFFERED = ['none', ...PRESET_NAMES];
const PLANS = ['none', 'Basic', 'Auxiliary'];
const ARCHIVES = ['none', 'create'];

describe('infra/azure ARM template: TIERS_PRESET against the cold table and the archive', () => {
  it('offers none and every shipped preset', () => {
    assert.deepEqual([...template.parameters.TIERS_PRESET.allowedValues].sort(), [...PRESETS_OFFERED].sort());
  });

  it('refuses exactly the combinations whose settings the function refuses, and the function reads the others as deployed', () => {
    let accepted = 0;
    for (const preset of PRESETS_OFFERED) {
      for (const coldTablePlan of PLANS) {
        for (const archiveContainer of ARCHIVES) {
          const at = `TIERS_PRESET=${preset} coldTablePlan=${coldTablePlan} archiveContainer=${archiveContainer}`;
          const settings = { ...RESOLVED, ...tierSettings(preset, coldTablePlan, archiveContainer) };
          const functionRefusal = refusal(() => readAzureSettings(settings));
          let deployed: Record<string, string> | undefined;
          const templateRefusal = refusal(() => (deployed = appSettings(expand({ TIERS_PRESET: preset, coldTablePlan, archiveContainer }).resources)));
          assert.equal(templateRefusal === undefined, functionRefusal === undefined, `${at}: the template ${templateRefusal ?? 'accepts'}; the function ${functionRefusal ?? 'accepts'}`);
          if (templateRefusal !== undefined) {
            assert.match(templateRefusal, /TIERS_PRESET .*: set (coldTablePlan|archiveContainer)|coldTablePlan needs TIERS_PRESET/, at);
            continue;
          }
          accepted += 1;
          // The template's settings are those tierSettings gives, once the platform resolved them.
          const { TIERS_PRESET, TIERS, COLD_LOGS_STREAM_NAME, COLD_LOGS_DCR_IMMUTABLE_ID, OUTPUTS } = deployed!;
          const expected = tierSettings(preset, coldTablePlan, archiveContainer);
          assert.deepEqual([TIERS_PRESET, TIERS, COLD_LOGS_STREAM_NAME], [expected.TIERS_PRESET, expected.TIERS, expected.COLD_LOGS_STREAM_NAME], at);
          assert.equal(COLD_LOGS_DCR_IMMUTABLE_ID !== '', expected.COLD_LOGS_DCR_IMMUTABLE_ID !== '', at);
          assert.equal(OUTPUTS!.endsWith('kube-audit-archive/'), expected.OUTPUTS !== '', at);
          const config = readAzureSettings(settings);
          assert.equal(config.tiers, preset === 'none' ? undefined : PRESETS[preset as PresetName], at);
        }
      }
    }
    // none with any archive and no cold table; minimal with neither; security and compliance with both, on either plan.
    assert.equal(accepted, 2 + 1 + 2 * 2);
  });

  it('deploys the security preset with an Auxiliary cold table and the archive', () => {
    const settings = appSettings(expand({ TIERS_PRESET: 'security', coldTablePlan: 'Auxiliary', archiveContainer: 'create' }).resources);
    assert.deepEqual([settings.TIERS_PRESET, settings.COLD_LOGS_STREAM_NAME], ['security', 'Custom-KubeAuditCold']);
  });

  it('refuses TIERS_PRESET with TIERS, and a cold table with neither', () => {
    assert.throws(() => expand({ TIERS_PRESET: 'security', TIERS: '{default: hot}', coldTablePlan: 'Basic', archiveContainer: 'create' }), /give TIERS or TIERS_PRESET, not both/);
    assert.throws(() => expand({ coldTablePlan: 'Basic' }), /coldTablePlan needs TIERS_PRESET \(security or compliance\) or TIERS/);
  });
});

/** The message `run` throws with, or undefined when it returns. */
function refusal(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
