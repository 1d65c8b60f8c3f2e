import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { holds } from '../../src/detect/condition.ts';
import { detect, ruleFlags } from '../../src/detect/detector.ts';
import { loadRules } from '../../src/detect/rule-source.ts';
import { alerts } from '../../src/detect/rule.ts';
import { ruleCondition } from '../../src/detect/selector-condition.ts';
import { ConfigError } from '../../src/errors.ts';
import { DETECTION_FIXTURES_DIR, detectionFixtures } from '../support/detection-fixtures.ts';

const rules = loadRules();
const fixtures = detectionFixtures();

describe('detection rules on the project fixtures', () => {
  it('every rule has a fixture file with positives and negatives, and every file names a rule', () => {
    const files = readdirSync(DETECTION_FIXTURES_DIR).filter((name) => name.endsWith('.yaml')).map((name) => name.replace(/\.yaml$/, ''));
    assert.deepEqual(files.sort(), rules.map((rule) => rule.id).sort());
    for (const rule of rules) {
      assert.ok(fixtures.some((f) => f.file === rule.id && f.kind === 'positive'), `${rule.id} has no positive fixture`);
      assert.ok(fixtures.some((f) => f.file === rule.id && f.kind === 'negative'), `${rule.id} has no negative fixture`);
    }
  });

  it('flags exactly the positives: each event is flagged by its own rule (if positive) and the rules it names, no other', () => {
    for (const fixture of fixtures) {
      const flagged = rules.filter((rule) => ruleFlags(rule, fixture.event)).map((rule) => rule.id).sort();
      assert.deepEqual(flagged, [...fixture.flaggedBy].sort(), fixture.name);
    }
  });

  it('the condition the generators compile agrees with the drop-rule matcher on every fixture and rule', () => {
    for (const fixture of fixtures) {
      for (const rule of rules) assert.equal(holds(ruleCondition(rule), fixture.event), ruleFlags(rule, fixture.event), `${rule.id} on ${fixture.name}`);
    }
  });

  it('reports who did what to which object, and nothing of the event content', () => {
    const fixture = fixtures.find((f) => f.name === 'configmap-credentials.yaml positive[0]')!;
    const [match, ...others] = detect(rules, fixture.event);
    assert.equal(others.length, 0);
    assert.deepEqual(match, {
      rule: 'configmap-credentials',
      severity: 'medium',
      auditID: 'fixture-configmap-credentials-positive-0',
      stage: 'ResponseComplete',
      user: 'alice@example.com',
      verb: 'create',
      object: 'configmaps shop/app',
      time: '2026-01-05T10:00:00.010000Z',
    });
    assert.ok(!JSON.stringify(match).includes('hunter2'));
  });

  it('ships alerts for the rules the issue calls high-impact', () => {
    const alerting = rules.filter(alerts).map((rule) => rule.id);
    for (const id of ['privileged-container', 'host-namespace-pod', 'hostpath-mount', 'cluster-admin-binding', 'anonymous-allowed', 'auth-failure-burst']) assert.ok(alerting.includes(id), id);
  });
});

describe('the rule source', () => {
  const refused = (text: string): string[] => {
    try {
      loadRules(text, 'test.yaml');
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      return [...error.problems];
    }
    assert.fail('the rule source was accepted');
  };
  const base = 'id: a, title: t, severity: low, why: w, response: r, falsePositives: f';

  it('lists every problem with its place', () => {
    const problems = refused(`rules:\n  - {${base}, match: {verb: [get]}, where: [{field: 'user..name', equals: x}]}\n  - {id: a, title: t, severity: urgent, why: w, response: r, falsePositives: f, allow: [nope]}\n`);
    assert.deepEqual(problems.map((p) => p.split(':')[0]), ['test.yaml rules[0].match.verb', 'test.yaml rules[0].where[0]', 'test.yaml rules[1].id', 'test.yaml rules[1].severity', 'test.yaml rules[1].allow']);
  });

  it('refuses what the cloud queries could not state the same way', () => {
    const problems = refused(`rules:\n  - {${base}, match: {nonResourceURLs: [/healthz], namespaces: [''], users: ['a"b'], resources: [{group: 'x\\\\y'}]}, where: [{field: verb, equals: 'a"b'}, {field: verb, prefix: x, in: [y]}]}\n`);
    assert.deepEqual(problems.map((p) => p.split(':')[0]), ['test.yaml rules[0].match.nonResourceURLs', 'test.yaml rules[0].match.users', 'test.yaml rules[0].match.resources', 'test.yaml rules[0].match.namespaces', 'test.yaml rules[0].where[0]', 'test.yaml rules[0].where[1]']);
  });

  it('accepts a minimal rule and matches it with the drop-rule semantics', () => {
    const [rule] = loadRules(`rules:\n  - {${base}, match: {verbs: [delete], resources: [{group: '', resources: [pods]}]}}\n`);
    const pod = fixtures.find((f) => f.name === 'events-deleted.yaml negative[1]')!.event;
    assert.equal(ruleFlags(rule!, pod), true);
    assert.equal(ruleFlags(rule!, { ...pod, objectRef: { ...pod.objectRef, subresource: 'eviction' } }), false);
  });
});
