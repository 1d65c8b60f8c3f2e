// The detections over the public corpus of real audit events (../shared/fixtures/real): the hit rate per rule that
// docs/detections.md shows, and the generated metric filters and conditions agreeing with the detector there too.
// Skips with its reason when the corpus is absent, unless KAR_REAL_CORPUS=required.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { AuditEvent } from '../../src/audit/types.ts';
import { metricFilterOf } from '../../src/detect/aws-template.ts';
import { holds } from '../../src/detect/condition.ts';
import { ruleFlags } from '../../src/detect/detector.ts';
import { loadRules } from '../../src/detect/rule-source.ts';
import { ruleCondition } from '../../src/detect/selector-condition.ts';
import { runCommand } from '../support/cli.ts';
import { filterPatternMatches } from '../support/cloudwatch-filter-pattern.ts';
import { fixtureLines } from '../support/event-lists.ts';
import { REAL_CORPUS_DIR, realCorpusSkip } from '../support/real-corpus.ts';

const skip = realCorpusSkip();

const HIT_RATE_BEGIN = '<!-- hit rate on the real corpus: printed by kube-audit-relay detect --summary -->';
const HIT_RATE_END = '<!-- end of hit rate -->';

describe('detections over the real corpus', { skip }, () => {
  it('detect --summary reports the hit rate per rule that docs/detections.md shows', async () => {
    const lines = fixtureLines(REAL_CORPUS_DIR);
    const result = await runCommand(['detect', '--summary', '-'], { stdin: `${lines.join('\n')}\n` });
    assert.equal(result.code, 0, result.stderr);
    const table = result.stdout.slice(result.stdout.indexOf('| Rule |')).trim();
    assert.match(table, new RegExp(`Of ${lines.length} events`));
    assert.equal(table.split('\n').length, loadRules().length + 2);
    const docs = readFileSync(new URL('../../docs/detections.md', import.meta.url), 'utf8');
    const shown = docs.slice(docs.indexOf(HIT_RATE_BEGIN) + HIT_RATE_BEGIN.length, docs.indexOf(HIT_RATE_END)).trim();
    assert.equal(shown, table, 'docs/detections.md shows another hit rate: paste the table above between its markers');
  });

  it('the generated conditions and metric filters agree with the detector on every real event', () => {
    const events = fixtureLines(REAL_CORPUS_DIR).map((line) => JSON.parse(line) as AuditEvent);
    for (const rule of loadRules()) {
      const filter = metricFilterOf(rule);
      for (const event of events) {
        const flagged = ruleFlags(rule, event);
        assert.equal(holds(ruleCondition(rule), event), flagged, `${rule.id} condition on ${event.auditID}`);
        if ('pattern' in filter) assert.equal(filterPatternMatches(filter.pattern, event), flagged, `${rule.id} metric filter on ${event.auditID}`);
      }
    }
  });
});
