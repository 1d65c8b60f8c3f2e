// TIERS_PRESET and TIERS, checked at package time against the outputs the stack gives the function, by the same rule
// the function applies when it starts (src/tiers/tier-bindings.ts): every tier the routing reaches needs an output
// (hot: the audit group, always; cold: COLD_LOG_GROUP=create; archive: ARCHIVE=create or existing), and every output a
// tier the routing reaches. A stack that broke it would deploy a function that refuses to start and answers 500 to
// every batch. The routing is read and its tiers found by the function's own code (readTierRouting, reachableTiers),
// loaded through tsx, so a preset or tiers file means here exactly what it means to the function.
'use strict';

const { require: requireTs } = require('tsx/cjs/api');

const { SettingsReader } = requireTs('../../src/config.ts', __filename);
const { readTierRouting } = requireTs('../../src/tiers/tier-config.ts', __filename);
const { reachableTiers } = requireTs('../../src/sinks/tiered.ts', __filename);
const { PRESET_NAMES } = requireTs('../../src/tiers/presets.ts', __filename);

/**
 * Pushes a problem onto `problems` for each tier the routing reaches that the stack stores nowhere, and for a cold group
 * or archive the routing never reaches; each names both parameters and the fix.
 * @param {object} choices `tiersPreset` (TIERS_PRESET, `none` for none), `tiers` (TIERS, a tiers file's content, or
 *   empty), `coldLogGroup` (COLD_LOG_GROUP: none or create), `archive` (ARCHIVE: none, create or existing).
 */
function checkTierParameters({ tiersPreset, tiers, coldLogGroup, archive, problems }) {
  const preset = tiersPreset === 'none' ? undefined : tiersPreset;
  if (preset !== undefined && tiers) {
    problems.push('give TIERS or TIERS_PRESET, not both');
    return;
  }
  if (preset !== undefined && !PRESET_NAMES.includes(preset)) {
    problems.push(`TIERS_PRESET ${JSON.stringify(preset)} must be none or one of ${PRESET_NAMES.join(', ')}`);
    return;
  }
  const reader = new SettingsReader({ TIERS_PRESET: preset, TIERS: tiers });
  const routing = readTierRouting(reader);
  // The reader names TIERS, the parameter of the same name, with the rule's index and field.
  problems.push(...reader.problems);
  if (reader.problems.length > 0) return;
  const routingName = preset === undefined ? 'TIERS' : `TIERS_PRESET=${preset}`;
  if (routing === undefined) {
    if (coldLogGroup === 'create') problems.push('COLD_LOG_GROUP=create needs TIERS_PRESET or TIERS (a tiers file\'s content) that send events to cold; see docs/cost.md');
    return;
  }
  const reachable = reachableTiers(routing);
  const elsewhere = 'or give TIERS (a tiers file) that sends those events to another tier';
  if (reachable.includes('cold') && coldLogGroup !== 'create') {
    problems.push(`${routingName} sends events to the cold tier, but COLD_LOG_GROUP is not create: set COLD_LOG_GROUP=create (an Infrequent Access group for them), ${elsewhere}`);
  }
  if (!reachable.includes('cold') && coldLogGroup === 'create') {
    problems.push(`COLD_LOG_GROUP=create, but ${routingName} never sends events to the cold tier, so the group would stay empty and the function refuse to start: set COLD_LOG_GROUP=none, or give TIERS that sends events to cold`);
  }
  if (reachable.includes('archive') && archive === 'none') {
    problems.push(`${routingName} sends events to the archive tier, but ARCHIVE is none: set ARCHIVE=create (or ARCHIVE=existing with ARCHIVE_BUCKET_NAME), ${elsewhere}`);
  }
  if (!reachable.includes('archive') && archive !== 'none') {
    problems.push(`ARCHIVE=${archive}, but ${routingName} never sends events to the archive tier, so the function would refuse to start and answer 500 to every batch: give TIERS (a tiers file) with "archive: always" to archive every stored event as well, or set ARCHIVE=none`);
  }
}

module.exports = { checkTierParameters };
