import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { metricFilterOf } from '../../src/detect/aws-template.ts';
import { ruleFlags } from '../../src/detect/detector.ts';
import { holds, type Condition } from '../../src/detect/condition.ts';
import { parseFieldPath } from '../../src/detect/field-path.ts';
import { MAX_FILTER_PATTERN_LENGTH, metricFilterPattern } from '../../src/detect/metric-filter.ts';
import { loadRules } from '../../src/detect/rule-source.ts';
import { alerts } from '../../src/detect/rule.ts';
import { filterPatternMatches, parseFilterPattern } from '../support/cloudwatch-filter-pattern.ts';
import { detectionFixtures } from '../support/detection-fixtures.ts';

const rules = loadRules();
const fixtures = detectionFixtures();

describe('the JSON filter-pattern evaluator (test support), on the documentation\'s own kinds of pattern', () => {
  const event = { eventType: 'UpdateTrail', sourceIPAddress: '123.123.1.9', latency: 1200, error: true, nothing: null, list: ['a', 'b'], user: { id: 7 } };

  it('compares strings with wildcards, numbers, booleans, null and missing fields', () => {
    assert.equal(filterPatternMatches('{ $.eventType = "UpdateTrail" }', event), true);
    assert.equal(filterPatternMatches('{ $.eventType = "Update*" }', event), true);
    assert.equal(filterPatternMatches('{ $.sourceIPAddress != 123.123.* }', event), false);
    assert.equal(filterPatternMatches('{ $.latency > 1000 && $.error IS TRUE }', event), true);
    assert.equal(filterPatternMatches('{ $.latency < 1000 || $.list[1] = "b" }', event), true);
    assert.equal(filterPatternMatches('{ $.nothing IS NULL && $.absent NOT EXISTS && $.user.id = 7 }', event), true);
    // A comparison on a field the event lacks never matches, whichever the operator.
    assert.equal(filterPatternMatches('{ $.absent != "x" }', event), false);
    assert.equal(filterPatternMatches('{ $.list[2] = "*" }', event), false);
  });

  it('refuses text outside the grammar', () => {
    for (const bad of ['$.a = "b"', '{ $.a = }', '{ $.a ~ "b" }', '{ $.a IS MAYBE }', '{ ($.a = "b" }', '{ a = "b" }', '{ $.a = "b" } x', '{ $.a > "b" }']) {
      assert.throws(() => parseFilterPattern(bad), SyntaxError, bad);
    }
  });
});

describe('generated metric filters', () => {
  it('exist for every alerting rule and fit CloudWatch\'s length limit', () => {
    for (const rule of rules.filter(alerts)) {
      const filter = metricFilterOf(rule);
      assert.ok('pattern' in filter, `${rule.id}: ${'reason' in filter ? filter.reason : ''}`);
      // CloudWatch Logs' documented limit, not the module's constant (a constant raised past it would still pass).
      assert.ok(filter.pattern.length <= 1024, `${rule.id}: pattern of ${filter.pattern.length} characters`);
      parseFilterPattern(filter.pattern);
    }
  });

  it('match exactly the fixture events the local detector flags, for every rule that has one', () => {
    let compared = 0;
    for (const rule of rules) {
      const filter = metricFilterOf(rule);
      if (!('pattern' in filter)) continue;
      for (const fixture of fixtures) {
        assert.equal(filterPatternMatches(filter.pattern, fixture.event), ruleFlags(rule, fixture.event), `${rule.id} on ${fixture.name}:\n${filter.pattern}`);
        compared++;
      }
    }
    assert.ok(compared >= 15 * fixtures.length, `only ${compared} comparisons`);
  });
});

describe('the metric filter compiler on events that lack the fields it tests', () => {
  const test = (field: string, rest: Record<string, unknown>) => ({ path: parseFieldPath(field), ...rest }) as Condition;
  const conditions: Record<string, Condition> = {
    'not in': { not: test('objectRef.namespace', { op: 'in', values: ['kube-system', 'kube-public'] }) },
    'not prefix or equals': { not: { any: [test('user.username', { op: 'prefix', value: 'system:node:' }), test('user.username', { op: 'equals', value: 'admin' })] } },
    'not true': { not: test('requestObject.spec.hostNetwork', { op: 'equals', value: true }) },
    'not lt': { not: test('responseStatus.code', { op: 'lt', value: 400 }) },
    'not gte': { not: test('responseStatus.code', { op: 'gte', value: 400 }) },
    'not exists': { not: test('impersonatedUser.username', { op: 'exists' }) },
    absent: test('objectRef.subresource', { op: 'absent' }),
    'any element': test('requestObject.spec.containers[*].securityContext.privileged', { op: 'equals', value: true }),
    'no element': { not: test('user.groups[*]', { op: 'in', values: ['system:masters'] }) },
  };
  const events: unknown[] = [
    {},
    { objectRef: {}, user: {}, responseStatus: {}, requestObject: { spec: {} } },
    { objectRef: { namespace: 'kube-system', subresource: '' }, user: { username: 'system:node:a', groups: ['system:masters'] }, responseStatus: { code: 403 } },
    { objectRef: { namespace: 'shop', subresource: 'exec' }, user: { username: 'admin', groups: [] }, responseStatus: { code: 200 }, impersonatedUser: { username: 'bob' } },
    { objectRef: { namespace: null, subresource: null }, user: { username: 'alice', groups: ['dev', 'system:masters'] }, requestObject: { spec: { hostNetwork: false, containers: [{}, { securityContext: { privileged: true } }] } } },
    { requestObject: { spec: { hostNetwork: true, containers: [{ securityContext: { privileged: false } }] } }, responseStatus: { code: 400 } },
  ];

  it('agrees with the local detector on every combination', () => {
    for (const [name, condition] of Object.entries(conditions)) {
      const pattern = metricFilterPattern(condition);
      events.forEach((event, index) => assert.equal(filterPatternMatches(pattern, event), holds(condition, event), `${name} on event ${index}: ${pattern}`));
    }
  });
});
