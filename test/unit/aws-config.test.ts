import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readLambdaConfig } from '../../functions/aws/config.ts';
import { ConfigError } from '../../src/errors.ts';
import { HANDLER_VARIABLES } from '../support/lambda-environment.ts';

const TOKEN = 'c0ffee00c0ffee00c0ffee00c0ffee00';
/** A parameter store of one SecureString, read the way readSecureString is: the value, or ParameterNotFoundError. */
const store = (values: Record<string, string>) => async (name: string) => {
  const value = values[name];
  if (value === undefined) throw Object.assign(new Error(`Parameter ${name} not found in the store`), { name: 'ParameterNotFoundError' });
  return value;
};

async function problemsOf(env: Record<string, string>, parameters: Record<string, string> = {}): Promise<string[]> {
  try {
    await readLambdaConfig(env, store(parameters));
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return [...error.problems];
  }
  return [];
}

describe('lambda configuration', () => {
  it('applies the defaults', async () => {
    const config = await readLambdaConfig({ LOG_GROUP_NAME: '/aws/eks/prod/cluster', AUTH_MODE: 'none' });
    assert.equal(config.logStreamPrefix, 'kube-apiserver-audit-');
    assert.equal(config.pipeline.maxEventBytes, 1_048_576);
    assert.equal(config.pipeline.maxBodyBytes, 6 * 1024 * 1024);
    assert.equal(config.pipeline.sinkTimeoutMs, 20_000);
    assert.deepEqual(config.pipeline.auth, { mode: 'none' });
    assert.equal(config.pipeline.redaction.secrets, true);
    assert.ok(Object.isFrozen(config));
  });

  it('reads comma- or newline-separated tokens from the parameter', async () => {
    const next = 'beefbeefbeefbeefbeefbeefbeefbeef';
    const config = await readLambdaConfig(
      { LOG_GROUP_NAME: 'audit', AUTH_TOKEN_PARAMETER: '/relay/tokens' },
      store({ '/relay/tokens': ` ${TOKEN},\n${next}\n` }),
    );
    assert.equal(config.authTokenParameter, '/relay/tokens');
    assert.deepEqual(config.pipeline.auth, { mode: 'credentials', tokens: [{ secret: TOKEN }, { secret: next }], basic: [] });
  });

  it('requires AUTH_MODE=none to be explicit', async () => {
    const problems = await problemsOf({ LOG_GROUP_NAME: 'audit' });
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /^AUTH_MODE: no caller authentication is configured: set AUTH_TOKEN_PARAMETER, AUTH_TOKENS, AUTH_TOKEN_FILE or AUTH_BASIC_FILE, or AUTH_MODE=none/);
  });

  it('reports every problem at once, each naming its variable', async () => {
    const problems = await problemsOf(
      { LOG_GROUP_NAME: 'bad group name!', LOG_STREAM_PREFIX: 'audit:*', MAX_EVENT_BYTES: '2097152', AUTH_TOKEN_PARAMETER: '/relay/short' },
      { '/relay/short': 'tooshort' },
    );
    assert.deepEqual(problems.map((problem) => problem.split(':')[0]), ['LOG_GROUP_NAME', 'LOG_STREAM_PREFIX', 'AUTH_TOKEN_PARAMETER', 'MAX_EVENT_BYTES']);
    assert.match(problems[2]!, /every token must be at least 16 characters/);
    assert.ok(!problems.join('\n').includes('tooshort'), 'token values never appear in messages');
  });

  it('takes a LOG_GROUP_NAME with {cluster} only if every cluster name fits it and the stream prefix leaves room for the cluster', async () => {
    const fleet = { AUTH_MODE: 'none', CLUSTER_NAME: 'prod-eu-1' };
    assert.equal((await readLambdaConfig({ ...fleet, LOG_GROUP_NAME: '/aws/eks/{cluster}/cluster' })).logGroupName, '/aws/eks/{cluster}/cluster');
    // 260 characters besides {cluster}: a 253-character cluster name would make a group name longer than 512.
    const problems = await problemsOf({ ...fleet, LOG_GROUP_NAME: `/${'a'.repeat(250)}/{cluster}/cluster`, LOG_STREAM_PREFIX: 'p'.repeat(227) });
    assert.deepEqual(problems, [
      'LOG_GROUP_NAME: must be 1 to 512 letters, digits or any of _ - / . #, and may hold {cluster} (then at most 259 characters besides it), e.g. /aws/eks/{cluster}/cluster',
      'LOG_STREAM_PREFIX: must be at most 226 characters without : or * (the cluster, a dash and 32 hex digits follow it in the stream name)',
    ]);
    assert.deepEqual(await problemsOf({ AUTH_MODE: 'none', LOG_GROUP_NAME: '/aws/eks/{cluster}/cluster' }), [
      'LOG_GROUP_NAME: has {cluster}, but callers are not authenticated and CLUSTER_NAME is not set: name the cluster on every line (`<token> <cluster>`) or set CLUSTER_NAME',
    ]);
  });

  it('says which parameter is missing and what to do', async () => {
    const problems = await problemsOf({ LOG_GROUP_NAME: 'audit', AUTH_TOKEN_PARAMETER: '/relay/none', AUTH_MODE: 'token' });
    assert.match(problems[0]!, /^AUTH_TOKEN_PARAMETER: SSM parameter "\/relay\/none" does not exist; create it as a SecureString/);
    assert.match(problems[1]!, /^AUTH_MODE: asks for tokens, but none are configured \(AUTH_TOKEN_PARAMETER, AUTH_TOKENS, AUTH_TOKEN_FILE\)/);
  });

  it('accepts the older accounts\' 262144-byte event limit', async () => {
    const config = await readLambdaConfig({ LOG_GROUP_NAME: 'audit', AUTH_MODE: 'none', MAX_EVENT_BYTES: '262144' });
    assert.equal(config.pipeline.maxEventBytes, 262_144);
  });

  it('reads the tier routing and the cold group, and refuses tiers without an output and outputs without a tier', async () => {
    const base = { LOG_GROUP_NAME: '/aws/eks/prod/cluster', AUTH_MODE: 'none' };
    const config = await readLambdaConfig({ ...base, TIERS_PRESET: 'minimal' });
    assert.equal(config.tiers?.default, 'drop');
    assert.equal(config.coldLogGroupName, undefined);
    assert.deepEqual(await problemsOf({ ...base, TIERS_PRESET: 'compliance' }), [
      'TIERS_PRESET: sends events to the cold tier, but no output is bound to it: set COLD_LOG_GROUP_NAME, or list an output in COLD_OUTPUTS; or send those events to another tier with a tiers file (TIERS_FILE)',
      'TIERS_PRESET: sends events to the archive tier, but no output is bound to it: list an s3:// or Azure Blob archive in OUTPUTS, or list any output in ARCHIVE_OUTPUTS; or send those events to another tier with a tiers file (TIERS_FILE)',
    ]);
    // The shipped security preset runs with the cold group and the archive bucket; an explicit binding works as well.
    const security = await readLambdaConfig({ ...base, TIERS_PRESET: 'security', COLD_LOG_GROUP_NAME: '/aws/eks/prod/cold', OUTPUTS: 's3://audit-archive/eks/' });
    assert.deepEqual(security.outputs.guaranteed.map((spec) => spec.kind), ['s3']);
    const bound = await readLambdaConfig({ ...base, TIERS_PRESET: 'security', COLD_OUTPUTS: 'cloudwatch:///aws/eks/prod/cold', ARCHIVE_OUTPUTS: 's3://audit-archive/eks/' });
    assert.deepEqual([bound.outputs.bound.cold.length, bound.outputs.bound.archive.length], [1, 1]);
    assert.deepEqual(await problemsOf({ ...base, TIERS_PRESET: 'minimal', OUTPUTS: 's3://audit-archive/eks/' }), [
      'OUTPUTS: s3://audit-archive/eks/ stores the archive tier, but TIERS_PRESET never sends events to the archive tier: add "archive: always" to a tiers file (TIERS_FILE) to archive every stored event, or list it in HOT_OUTPUTS or COLD_OUTPUTS',
    ]);
    assert.deepEqual(await problemsOf({ ...base, ARCHIVE_OUTPUTS: 's3://audit-archive/eks/' }), [
      'ARCHIVE_OUTPUTS: binds outputs to the archive tier, but no tier routing is set: set TIERS_PRESET or TIERS_FILE, or list them in OUTPUTS',
    ]);
    assert.deepEqual(await problemsOf({ ...base, TIERS_PRESET: 'minimal', TIERS: '{default: hot}' }), ['TIERS_PRESET: set only one of TIERS_PRESET, TIERS']);
    assert.equal((await readLambdaConfig({ ...base, TIERS: '{default: hot, rules: [{tier: drop, verbs: [watch]}]}' })).tiers?.rules[0]?.tier, 'drop');
    assert.deepEqual(await problemsOf({ ...base, TIERS_PRESET: 'cheapest' }), ['TIERS_PRESET: must be one of security, compliance, minimal, not "cheapest"']);
    assert.deepEqual(await problemsOf({ ...base, COLD_LOG_GROUP_NAME: '/aws/eks/prod/cold' }), [
      'COLD_LOG_GROUP_NAME: is set, but no tier routing is set: set TIERS_PRESET, TIERS or TIERS_FILE, or remove it',
    ]);
  });
});

describe('the test environment of the Lambda', () => {
  it('clears every variable the configuration reads, so a test cannot leak one into the next', async () => {
    // Arrange: environments that take the configuration down each of its branches: tiers, outputs, a token parameter.
    const read = new Set<string>();
    const recording = (env: Record<string, string>) =>
      new Proxy(env, {
        get: (target, name) => {
          if (typeof name === 'string') read.add(name);
          return target[name as string];
        },
      });
    const environments: Record<string, string>[] = [
      { LOG_GROUP_NAME: '/aws/eks/prod/cluster', AUTH_MODE: 'none' },
      { LOG_GROUP_NAME: '/aws/eks/{cluster}/cluster', AUTH_TOKEN_PARAMETER: '/relay/tokens', TIERS_PRESET: 'security', COLD_LOG_GROUP_NAME: '/relay/cold', OUTPUTS: 's3://audit-archive/audit/', BEST_EFFORT_OUTPUTS: 'https://siem.example/audit' },
    ];

    // Act
    for (const env of environments) await readLambdaConfig(recording(env), store({ '/relay/tokens': `${TOKEN} prod` }));

    // Assert
    const cleared = new Set<string>(HANDLER_VARIABLES);
    assert.ok(read.size > 20, `the configuration read ${read.size} variables`);
    assert.deepEqual([...read].filter((name) => !cleared.has(name)).sort(), []);
  });
});
