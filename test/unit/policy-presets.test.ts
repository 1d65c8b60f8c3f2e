import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { evaluatePolicy, levelAtLeast, type AuditPolicy } from '../../src/audit/policy.ts';
import type { AuditEvent } from '../../src/audit/types.ts';
import { POLICY_PRESETS, PolicyPreset } from '../../src/generate/policy-presets.ts';
import { validatePolicy } from '../../src/generate/policy-schema.ts';
import { measurePolicyVolume } from '../../src/generate/policy-volume.ts';
import { runCommand } from '../support/cli.ts';
import { fixtureRecords } from '../support/records.ts';

const events: AuditEvent[] = fixtureRecords().map((record) => record.event as AuditEvent);
const presets = Object.values(PolicyPreset);
/** Health, readiness, liveness, metrics and version requests: no preset records them. */
const HEALTH_CHECK = /^\/(healthz|livez|readyz|metrics|version)(\/|\?|$)/;

async function presetFromCli(preset: string): Promise<AuditPolicy> {
  const result = await runCommand(['policy', '--preset', preset]);
  assert.equal(result.code, 0, result.stderr);
  return parse(result.stdout) as AuditPolicy;
}

const touches = (event: AuditEvent, group: string, resources: string[]): boolean =>
  (event.objectRef?.apiGroup ?? '') === group && resources.includes(event.objectRef?.resource ?? '');

/** A real non-resource request from the corpus, pointed at another path. */
function nonResourceRequest(path: string): AuditEvent {
  const real = events.find((event) => !event.objectRef && event.requestURI.startsWith('/openapi'));
  assert.ok(real, 'the corpus has a non-resource request');
  return { ...real, requestURI: path };
}

describe('policy presets', () => {
  for (const preset of presets) {
    test(`${preset}: the file the CLI writes validates against the audit.k8s.io/v1 Policy schema`, async () => {
      const policy = await presetFromCli(preset);
      assert.deepEqual(validatePolicy(policy), []);
      assert.deepEqual(policy, JSON.parse(JSON.stringify(POLICY_PRESETS[preset].policy)));
    });
  }

  test('default never records a body for secrets, configmaps or token reviews in the corpus', async () => {
    const policy = await presetFromCli('default');
    const sensitive = events.filter(
      (event) => touches(event, '', ['secrets', 'configmaps']) || touches(event, 'authentication.k8s.io', ['tokenreviews']),
    );
    assert.ok(sensitive.length >= 15, `the corpus has ${sensitive.length} such events`);
    for (const event of sensitive) {
      const { level } = evaluatePolicy(policy, event);
      assert.ok(!levelAtLeast(level, 'Request'), `${event.verb} ${event.objectRef?.resource} recorded at ${level}`);
    }
    // A token review that carries a token: the rule matches whatever the user, verb or namespace.
    const review = { ...sensitive[0]!, verb: 'create', objectRef: { resource: 'tokenreviews', apiGroup: 'authentication.k8s.io' } };
    assert.equal(evaluatePolicy(policy, review).level, 'Metadata');
  });

  test('default records every RBAC change in the corpus at RequestResponse, and RBAC reads at Metadata', async () => {
    const policy = await presetFromCli('default');
    const rbac = events.filter((event) => event.objectRef?.apiGroup === 'rbac.authorization.k8s.io');
    const changes = rbac.filter((event) => ['create', 'update', 'patch', 'delete', 'deletecollection'].includes(event.verb));
    assert.ok(changes.length >= 5, `the corpus has ${changes.length} RBAC changes`);
    for (const event of changes) assert.equal(evaluatePolicy(policy, event).level, 'RequestResponse');
    for (const event of rbac.filter((event) => event.verb === 'get')) assert.equal(evaluatePolicy(policy, event).level, 'Metadata');
  });

  test('default records workload changes at RequestResponse and exec at Metadata', async () => {
    const policy = await presetFromCli('default');
    const podCreates = events.filter((event) => touches(event, '', ['pods']) && event.verb === 'create' && !event.objectRef?.subresource);
    assert.ok(podCreates.length > 5);
    for (const event of podCreates) assert.equal(evaluatePolicy(policy, event).level, 'RequestResponse');
    const execs = events.filter((event) => event.objectRef?.subresource === 'exec');
    assert.ok(execs.length > 0);
    for (const event of execs) assert.equal(evaluatePolicy(policy, event).level, 'Metadata');
  });

  test('no preset records health, readiness, liveness, metrics or version requests', async () => {
    for (const preset of presets) {
      const policy = await presetFromCli(preset);
      for (const path of ['/healthz', '/healthz/etcd', '/livez', '/readyz?verbose', '/metrics', '/version']) {
        assert.equal(evaluatePolicy(policy, nonResourceRequest(path)).level, 'None', `${preset} ${path}`);
      }
      // Discovery is not a health endpoint: every preset but minimal (reads) records it.
      const discovery = evaluatePolicy(policy, nonResourceRequest('/apis/apps/v1')).level;
      assert.equal(discovery === 'None', preset === 'minimal', `${preset} /apis/apps/v1 at ${discovery}`);
    }
  });

  test('default, minimal and cis omit RequestReceived and managedFields for every corpus request; verbose keeps both', async () => {
    for (const preset of presets) {
      const policy = await presetFromCli(preset);
      for (const event of events) {
        const decision = evaluatePolicy(policy, event);
        assert.equal(decision.omitStages.includes('RequestReceived'), preset !== 'verbose', preset);
        assert.equal(decision.omitManagedFields, preset !== 'verbose', preset);
      }
    }
  });

  test('cis records every corpus request at Metadata or more except health checks, secrets only at Metadata', async () => {
    const policy = await presetFromCli('cis');
    for (const event of events) {
      const { level } = evaluatePolicy(policy, event);
      if (HEALTH_CHECK.test(event.requestURI)) {
        assert.equal(level, 'None', event.requestURI);
        continue;
      }
      assert.ok(levelAtLeast(level, 'Metadata'), `${event.requestURI} at ${level}`);
      if (touches(event, '', ['secrets', 'configmaps'])) assert.equal(level, 'Metadata');
    }
  });

  test('events recorded per 1,000 corpus requests: minimal < default < cis < verbose', async (t) => {
    const volumes = Object.fromEntries(
      await Promise.all(presets.map(async (preset) => [preset, measurePolicyVolume(await presetFromCli(preset), events)] as const)),
    );
    const rows = presets.map((preset) => {
      const volume = volumes[preset]!;
      const levels = Object.entries(volume.requestsByLevel).map(([level, count]) => `${level} ${count}`).join(', ');
      return `${preset}: ${volume.eventsPer1000} events per 1,000 requests (${volume.events} events for ${volume.requests} requests; ${levels})`;
    });
    t.diagnostic(rows.join('\n'));
    assert.ok(volumes.minimal!.eventsPer1000 < volumes.default!.eventsPer1000);
    assert.ok(volumes.default!.eventsPer1000 < volumes.cis!.eventsPer1000);
    assert.ok(volumes.cis!.eventsPer1000 < volumes.verbose!.eventsPer1000);
    // verbose records every request in two or three stages.
    assert.ok(volumes.verbose!.eventsPer1000 >= 2000);
  });
});

describe('policy evaluation follows the API server checker', () => {
  const exec = events.find((event) => event.objectRef?.subresource === 'exec')!;
  const clusterScoped = events.find((event) => event.objectRef?.resource === 'clusterroles')!;
  const policy = (rules: AuditPolicy['rules'], omitStages?: AuditPolicy['omitStages']): AuditPolicy => ({
    apiVersion: 'audit.k8s.io/v1',
    kind: 'Policy',
    rules,
    ...(omitStages ? { omitStages } : {}),
  });
  const level = (rules: AuditPolicy['rules'], event: AuditEvent) => evaluatePolicy(policy(rules), event).level;

  test('a resource name without its subresource does not match the subresource; */sub and resource/* do', () => {
    assert.equal(level([{ level: 'Request', resources: [{ resources: ['pods'] }] }], exec), 'None');
    assert.equal(level([{ level: 'Request', resources: [{ resources: ['pods/exec'] }] }], exec), 'Request');
    assert.equal(level([{ level: 'Request', resources: [{ resources: ['*/exec'] }] }], exec), 'Request');
    assert.equal(level([{ level: 'Request', resources: [{ resources: ['pods/*'] }] }], exec), 'Request');
    assert.equal(level([{ level: 'Request', resources: [{ resources: ['*/scale'] }] }], exec), 'None');
    assert.equal(level([{ level: 'Request', resources: [{ group: 'apps', resources: ['*'] }] }], exec), 'None');
  });

  test('resourceNames, namespaces ("" is cluster-scoped), users and groups narrow a rule', () => {
    const name = exec.objectRef!.name!;
    assert.equal(level([{ level: 'Request', resources: [{ resources: ['pods/exec'], resourceNames: [name] }] }], exec), 'Request');
    assert.equal(level([{ level: 'Request', resources: [{ resources: ['pods/exec'], resourceNames: [`${name}-other`] }] }], exec), 'None');
    assert.equal(level([{ level: 'Request', namespaces: [''] }], clusterScoped), 'Request');
    assert.equal(level([{ level: 'Request', namespaces: [''] }], exec), 'None');
    assert.equal(level([{ level: 'Request', users: [exec.user.username!] }], exec), 'Request');
    assert.equal(level([{ level: 'Request', userGroups: ['no-such-group'] }], exec), 'None');
    assert.equal(level([{ level: 'Request', userGroups: exec.user.groups! }], exec), 'Request');
  });

  test('non-resource URLs match exactly or by trailing *, and never match resource requests', () => {
    assert.equal(level([{ level: 'Metadata', nonResourceURLs: ['/openapi*'] }], nonResourceRequest('/openapi/v2?timeout=32s')), 'Metadata');
    assert.equal(level([{ level: 'Metadata', nonResourceURLs: ['/openapi'] }], nonResourceRequest('/openapi/v2')), 'None');
    assert.equal(level([{ level: 'Metadata', nonResourceURLs: ['*'] }], exec), 'None');
  });

  test('the first matching rule wins and omitStages are the union of the policy and the rule', () => {
    const decision = evaluatePolicy(
      policy([{ level: 'Metadata', verbs: [exec.verb], omitStages: ['ResponseStarted'] }, { level: 'RequestResponse' }], ['RequestReceived']),
      exec,
    );
    assert.equal(decision.level, 'Metadata');
    assert.deepEqual([...decision.omitStages].sort(), ['RequestReceived', 'ResponseStarted']);
    assert.deepEqual(evaluatePolicy(policy([{ level: 'Request', verbs: ['no-such-verb'] }], ['Panic']), exec), {
      level: 'None',
      omitStages: ['Panic'],
      omitManagedFields: false,
    });
  });
});

describe('policy schema validation', () => {
  const base = { apiVersion: 'audit.k8s.io/v1', kind: 'Policy' };
  const cases: [string, unknown, RegExp][] = [
    ['no rules', { ...base, rules: [] }, /^rules: must be a non-empty list/],
    ['wrong apiVersion', { ...base, apiVersion: 'audit.k8s.io/v2', rules: [{ level: 'None' }] }, /^apiVersion: must be audit.k8s.io\/v1/],
    ['unknown level', { ...base, rules: [{ level: 'Everything' }] }, /^rules\[0\]\.level: must be one of None, Metadata, Request, RequestResponse/],
    ['unknown stage', { ...base, omitStages: ['Received'], rules: [{ level: 'None' }] }, /^omitStages\[0\]: must be one of RequestReceived/],
    ['unknown rule field', { ...base, rules: [{ level: 'None', verb: ['get'] }] }, /^rules\[0\]: unknown field "verb"/],
    ['unknown policy field', { ...base, rule: [], rules: [{ level: 'None' }] }, /^policy: unknown field "rule"/],
    ['URL without a slash', { ...base, rules: [{ level: 'None', nonResourceURLs: ['healthz'] }] }, /must begin with '\/'/],
    ['* inside a URL', { ...base, rules: [{ level: 'None', nonResourceURLs: ['/api/*/x'] }] }, /'\*' only as its last character/],
    ['URLs beside resources', { ...base, rules: [{ level: 'None', nonResourceURLs: ['/x'], namespaces: ['a'] }] }, /both resources \(or namespaces\) and non-resource URLs/],
    ['upper-case group', { ...base, rules: [{ level: 'None', resources: [{ group: 'Apps' }] }] }, /^rules\[0\]\.resources\[0\]\.group: must be ""/],
    ['resourceNames alone', { ...base, rules: [{ level: 'None', resources: [{ resourceNames: ['x'] }] }] }, /resourceNames: needs at least one entry in resources/],
    ['verbs not a list', { ...base, rules: [{ level: 'None', verbs: 'get' }] }, /^rules\[0\]\.verbs: must be a list of strings/],
  ];
  for (const [name, policy, message] of cases) {
    test(`refuses ${name}`, () => {
      const problems = validatePolicy(policy);
      assert.equal(problems.length, 1, problems.join('\n'));
      assert.match(problems[0]!, message);
    });
  }
});

describe('policy command line', () => {
  test('-o writes the file; an unknown or missing preset is a usage error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'policy-'));
    try {
      const file = join(dir, 'audit-policy.yaml');
      assert.equal((await runCommand(['policy', '--preset', 'cis', '-o', file])).code, 0);
      assert.deepEqual(validatePolicy(parse(readFileSync(file, 'utf8'))), []);
      const unknown = await runCommand(['policy', '--preset', 'everything']);
      assert.equal(unknown.code, 2);
      assert.match(unknown.stderr, /unknown --preset 'everything': use one of minimal, default, verbose, cis/);
      const missing = await runCommand(['policy']);
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /--preset is required/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
