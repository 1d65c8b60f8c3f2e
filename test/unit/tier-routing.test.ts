// Tier routing: first match wins, the default, archive: always, refusals naming the rule's index and field, and the
// security preset keeping hot every event a shipped detection flags (the project's detection fixtures and, when
// present, the public corpus).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import type { AuditEvent } from '../../src/audit/types.ts';
import { SettingsReader } from '../../src/config.ts';
import { detect } from '../../src/detect/detector.ts';
import { loadRules } from '../../src/detect/rule-source.ts';
import { PRESET_NAMES, PRESETS } from '../../src/tiers/presets.ts';
import { parseTierFile } from '../../src/tiers/tier-file.ts';
import { destinations, routeTier, Tier, type TierRouting } from '../../src/tiers/tier-rule.ts';
import { detectionFixtures } from '../support/detection-fixtures.ts';
import { fixtureLines } from '../support/event-lists.ts';
import { REAL_CORPUS_DIR, realCorpusSkip } from '../support/real-corpus.ts';

const event = (fields: Partial<AuditEvent>): AuditEvent => ({
  level: 'Metadata',
  auditID: 'a1',
  stage: 'ResponseComplete',
  requestURI: '/api/v1/namespaces/shop/pods',
  verb: 'list',
  user: { username: 'alice@example.com', groups: ['system:authenticated'] },
  objectRef: { resource: 'pods', namespace: 'shop', apiVersion: 'v1' },
  responseStatus: { code: 200 },
  ...fields,
});

function parse(text: string): { routing: TierRouting | undefined; problems: string[] } {
  const reader = new SettingsReader({});
  const routing = parseTierFile(text, 'TIERS_FILE', reader);
  return { routing, problems: reader.problems };
}

describe('tier routing', () => {
  it('takes the first matching rule, else the default', () => {
    const { routing, problems } = parse(stringify({
      default: 'cold',
      rules: [
        { tier: 'hot', verbs: ['delete'] },
        { tier: 'drop', verbs: ['delete', 'watch'] },
        { tier: 'archive', responseCodes: [403] },
        { tier: 'hot', impersonated: true },
      ],
    }));
    assert.deepEqual(problems, []);
    assert.equal(routeTier(routing!, event({ verb: 'delete' })), Tier.Hot);
    assert.equal(routeTier(routing!, event({ verb: 'watch' })), Tier.Drop);
    assert.equal(routeTier(routing!, event({ responseStatus: { code: 403 } })), Tier.Archive);
    assert.equal(routeTier(routing!, event({ impersonatedUser: { username: 'bob' } })), Tier.Hot);
    assert.equal(routeTier(routing!, event({})), Tier.Cold);
  });

  it('copies kept events to the archive with archive: always, and nothing dropped', () => {
    const { routing } = parse('{default: cold, archive: always, rules: [{tier: drop, verbs: [watch]}, {tier: archive, verbs: [get]}]}');
    assert.deepEqual(destinations(routing!, event({})), [Tier.Cold, Tier.Archive]);
    assert.deepEqual(destinations(routing!, event({ verb: 'get' })), [Tier.Archive]);
    assert.deepEqual(destinations(routing!, event({ verb: 'watch' })), []);
  });

  it('refuses an unknown tier or field with the rule index and the field', () => {
    const { routing, problems } = parse(stringify({
      rules: [{ tier: 'hot', verbs: ['get'] }, { tier: 'warm', verbs: ['get'] }, { tier: 'cold', verb: ['get'] }, { tier: 'hot' }, { tier: 'hot', responseCodes: ['403'] }],
    }));
    assert.equal(routing, undefined);
    assert.deepEqual(problems, [
      'TIERS_FILE: rules[1]: tier: must be one of hot, cold, archive, drop, not "warm"',
      `TIERS_FILE: rules[2]: unknown field "verb"; known: verbs, resources, namespaces, users, userGroups, nonResourceURLs, stages, responseCodes, impersonated, why`,
      "TIERS_FILE: rules[3]: has no match fields and would match every event: set the file's default instead",
      'TIERS_FILE: rules[4]: responseCodes: must be a non-empty list of HTTP status codes, e.g. [401, 403]',
    ]);
  });

  it('refuses an unknown default, archive value or top-level field', () => {
    const { problems } = parse('{default: lukewarm, archive: sometimes, rule: []}');
    assert.deepEqual(problems, [
      'TIERS_FILE: unknown field "rule"; known: default, archive, rules',
      'TIERS_FILE: default: must be one of hot, cold, archive, drop, not "lukewarm"',
      'TIERS_FILE: archive: must be one of never, always, not "sometimes"',
    ]);
  });

  it('ships presets that are valid tiers files themselves', () => {
    for (const name of PRESET_NAMES) {
      const { routing, problems } = parse(stringify(PRESETS[name]));
      assert.deepEqual(problems, [], name);
      assert.deepEqual(routing, PRESETS[name], name);
    }
  });
});

describe('the security preset keeps every detected event hot', () => {
  const rules = loadRules();
  const flaggedNotHot = (events: readonly AuditEvent[], routing: TierRouting): string[] =>
    events.flatMap((item) => detect(rules, item).filter(() => routeTier(routing, item) !== Tier.Hot).map((match) => `${match.rule} ${match.auditID}`));

  it('on the detection fixtures', () => {
    const positives = detectionFixtures().filter((fixture) => fixture.kind === 'positive').map((fixture) => fixture.event);
    assert.ok(positives.length >= rules.length);
    for (const name of PRESET_NAMES.filter((preset) => preset !== 'compliance')) assert.deepEqual(flaggedNotHot(positives, PRESETS[name]), [], name);
  });

  it('on the public corpus', { skip: realCorpusSkip() }, () => {
    const events = fixtureLines(REAL_CORPUS_DIR).map((line) => JSON.parse(line) as AuditEvent);
    const flagged = events.filter((item) => detect(rules, item).length > 0);
    assert.ok(flagged.length > 10, 'the corpus has detections to check');
    for (const name of PRESET_NAMES.filter((preset) => preset !== 'compliance')) assert.deepEqual(flaggedNotHot(events, PRESETS[name]), [], name);
  });
});
