import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_EVENT_BYTES,
  DEFAULT_SINK_TIMEOUT_MS,
  type Env,
  type PipelineConfig,
  type PipelineDefaults,
  readPipelineConfig,
  SettingsReader,
} from '../../src/config.ts';
import { ConfigError } from '../../src/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'kube-audit-relay-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const file = (content: string): string => {
  const path = join(dir, `setting-${files++}`);
  writeFileSync(path, content);
  return path;
};
const TOKEN = 'a'.repeat(32);
const OTHER_TOKEN = 'b'.repeat(16);
const secrets = (...values: string[]) => values.map((secret) => ({ secret }));

function read(env: Env, defaults?: PipelineDefaults): PipelineConfig {
  const reader = new SettingsReader(env);
  const config = readPipelineConfig(reader, defaults);
  reader.finish();
  return config;
}

function problems(env: Env, defaults?: PipelineDefaults): readonly string[] {
  try {
    read(env, defaults);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    for (const problem of error.problems) assert.ok(error.message.includes(problem));
    return error.problems;
  }
  assert.fail('configuration was accepted');
}

describe('pipeline settings', () => {
  it('default to keep everything, redact secrets and store at the documented limits', () => {
    const config = read({ AUTH_MODE: 'none' });
    assert.deepEqual(config, {
      maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
      maxEventBytes: DEFAULT_MAX_EVENT_BYTES,
      sinkTimeoutMs: DEFAULT_SINK_TIMEOUT_MS,
      auth: { mode: 'none' },
      redaction: { secrets: true, paths: [] },
      dropRules: [],
    });
    assert.ok(Object.isFrozen(config) && Object.isFrozen(config.redaction));
    assert.equal(read({ AUTH_MODE: 'none' }, { maxBodyBytes: 6_000_000 }).maxBodyBytes, 6_000_000);
  });

  it('read every variable', () => {
    const config = read({
      CLUSTER_NAME: ' prod-eu-1 ',
      MAX_BODY_BYTES: '1048576',
      MAX_EVENT_BYTES: '4096',
      SINK_TIMEOUT_MS: '29000',
      AUTH_TOKENS: `${TOKEN}, ${OTHER_TOKEN}`,
      REDACT_SECRETS: 'off',
      REDACT_PATHS: 'requestObject.spec.password,\nresponseObject.metadata.annotations["example.com/k.v"]',
      DROP_RULES: '[{"verbs":["watch"],"users":["system:kube-proxy"]}]',
    });
    assert.deepEqual(config, {
      cluster: 'prod-eu-1',
      maxBodyBytes: 1_048_576,
      maxEventBytes: 4096,
      sinkTimeoutMs: 29_000,
      auth: { mode: 'credentials', tokens: secrets(TOKEN, OTHER_TOKEN), basic: [] },
      redaction: { secrets: false, paths: [['requestObject', 'spec', 'password'], ['responseObject', 'metadata', 'annotations', 'example.com/k.v']] },
      dropRules: [{ verbs: ['watch'], users: ['system:kube-proxy'] }],
    });
  });

  it('report every problem at once, each naming its variable', () => {
    const found = problems({
      CLUSTER_NAME: 'c'.repeat(254),
      MAX_BODY_BYTES: '1e6',
      MAX_EVENT_BYTES: '4095',
      SINK_TIMEOUT_MS: '30000',
      AUTH_MODE: 'tokens',
      REDACT_SECRETS: 'maybe',
      REDACT_PATHS: 'a..b',
      DROP_RULES: '{"verbs":["get"]}',
    });
    assert.deepEqual(
      found.map((problem) => problem.split(':')[0]),
      ['CLUSTER_NAME', 'MAX_BODY_BYTES', 'MAX_EVENT_BYTES', 'SINK_TIMEOUT_MS', 'AUTH_MODE', 'AUTH_MODE', 'REDACT_SECRETS', 'REDACT_PATHS', 'DROP_RULES'],
    );
    assert.match(found[1]!, /^MAX_BODY_BYTES: must be a whole number of at least 1024, not "1e6"$/);
    assert.match(found[2]!, /^MAX_EVENT_BYTES: must be a whole number of at least 4096, not "4095"$/);
    assert.match(found[3]!, /^SINK_TIMEOUT_MS: must be a whole number from 100 to 29000, not "30000"$/);
    assert.match(found[4]!, /^AUTH_MODE: must be one of none, token, basic, token\+basic, not "tokens"$/);
    assert.match(found[6]!, /^REDACT_SECRETS: must be true or false, not "maybe"$/);
    assert.match(found[7]!, /^REDACT_PATHS: "a\.\.b": empty key$/);
  });

  it('refuse numbers that are not plain whole numbers', () => {
    for (const text of ['-1', '1.5', '0x400', '2048 bytes', '99999999999999999999']) {
      assert.deepEqual(problems({ AUTH_MODE: 'none', MAX_BODY_BYTES: text }).length, 1, text);
    }
    assert.equal(read({ AUTH_MODE: 'none', MAX_BODY_BYTES: ' 2048 ' }).maxBodyBytes, 2048);
    assert.equal(read({ AUTH_MODE: 'none', MAX_BODY_BYTES: '' }).maxBodyBytes, DEFAULT_MAX_BODY_BYTES);
  });

  it('read booleans in the usual spellings', () => {
    for (const yes of ['true', 'TRUE', '1', 'yes', 'on']) assert.equal(read({ AUTH_MODE: 'none', REDACT_SECRETS: yes }).redaction.secrets, true);
    for (const no of ['false', 'False', '0', 'no', 'off']) assert.equal(read({ AUTH_MODE: 'none', REDACT_SECRETS: no }).redaction.secrets, false);
  });

  it('name the CLI flag when the reader is given one', () => {
    const reader = new SettingsReader({ AUTH_MODE: 'none', MAX_BODY_BYTES: 'big' }, (name) => (name === 'MAX_BODY_BYTES' ? `--max-body-bytes (${name})` : name));
    readPipelineConfig(reader);
    assert.match(reader.problems[0]!, /^--max-body-bytes \(MAX_BODY_BYTES\): must be a whole number/);
  });
});

describe('DROP_RULES', () => {
  const rules = [{ verbs: ['watch', 'list'], resources: [{ group: '', resources: ['pods/log', '*/scale'], resourceNames: ['a'] }], namespaces: ['', 'kube-system'] }, { nonResourceURLs: ['/healthz*'], stages: ['RequestReceived'], userGroups: ['system:nodes'] }];
  const yaml = `
# drop noisy reads
- verbs: [watch, list]
  resources:
    - group: ""
      resources: ["pods/log", "*/scale"]
      resourceNames: [a]
  namespaces: ["", kube-system]
- nonResourceURLs: ["/healthz*"]
  stages: [RequestReceived]
  userGroups: [system:nodes]
`;

  it('read the same rules from JSON, YAML and a file', () => {
    assert.deepEqual(read({ AUTH_MODE: 'none', DROP_RULES: JSON.stringify(rules) }).dropRules, rules);
    assert.deepEqual(read({ AUTH_MODE: 'none', DROP_RULES: yaml }).dropRules, rules);
    assert.deepEqual(read({ AUTH_MODE: 'none', DROP_RULES_FILE: file(yaml) }).dropRules, rules);
  });

  it('refuse what cannot be a rule list, naming the rule and field', () => {
    const check = (value: string, expected: RegExp[]): void => {
      const found = problems({ AUTH_MODE: 'none', DROP_RULES: value });
      assert.equal(found.length, expected.length, found.join('\n'));
      found.forEach((problem, index) => assert.match(problem, expected[index]!));
    };
    check('[{"verbs": ["get"]', [/^DROP_RULES: is not valid JSON or YAML: /]);
    check('verbs: [get]', [/^DROP_RULES: must be a list of rules/]);
    check('[1, {}, {"verbs": [], "users": ["a"]}]', [/^DROP_RULES\[0\]: must be an object$/, /^DROP_RULES\[1\]: is empty and would drop every event$/, /^DROP_RULES\[2\]: verbs is an empty list, which matches anything/]);
    check('[{"verb": ["get"], "users": "admin"}]', [/^DROP_RULES\[0\]: unknown field "verb"; known: verbs, resources/, /^DROP_RULES\[0\]: users must be a list of strings$/]);
    check('[{"resources": {"group": ""}}]', [/^DROP_RULES\[0\]: resources must be a list of \{group, resources, resourceNames\}$/]);
    check('[{"resources": ["pods", {"group": 1, "resource": ["pods"]}]}]', [/^DROP_RULES\[0\]\.resources\[0\]: must be an object$/, /^DROP_RULES\[0\]\.resources\[1\]\.group: /, /^DROP_RULES\[0\]\.resources\[1\]\.resource: /]);
    check('[{"nonResourceURLs": ["/metrics"], "namespaces": ["a"]}]', [/^DROP_RULES\[0\]: nonResourceURLs cannot be combined with resources or namespaces/]);
  });

  it('take one source only, and report an unreadable file', () => {
    assert.match(problems({ AUTH_MODE: 'none', DROP_RULES: '[]', DROP_RULES_FILE: file('[]') })[0]!, /^DROP_RULES: set either DROP_RULES or DROP_RULES_FILE, not both$/);
    assert.match(problems({ AUTH_MODE: 'none', DROP_RULES_FILE: join(dir, 'missing.yaml') })[0]!, /^DROP_RULES_FILE: .*missing\.yaml does not exist$/);
  });
});

describe('caller authentication settings', () => {
  it('need a choice: credentials, or AUTH_MODE=none', () => {
    assert.match(problems({})[0]!, /^AUTH_MODE: no caller authentication is configured: set AUTH_TOKENS, AUTH_TOKEN_FILE or AUTH_BASIC_FILE, or AUTH_MODE=none/);
    assert.deepEqual(read({}, { authMode: 'none' }).auth, { mode: 'none' });
    assert.match(problems({ AUTH_MODE: 'none', AUTH_TOKENS: TOKEN })[0]!, /^AUTH_MODE: is none, but credentials are configured/);
  });

  it('collect tokens from AUTH_TOKENS, AUTH_TOKEN_FILE and tokens fetched elsewhere', () => {
    const tokenFile = file(`# rotated 2026-11\n${OTHER_TOKEN}\n\n  ${'c'.repeat(20)}  \n`);
    const config = read({ AUTH_TOKENS: `${TOKEN}\n`, AUTH_TOKEN_FILE: tokenFile }, { tokens: ['d'.repeat(40)] });
    assert.deepEqual(config.auth, { mode: 'credentials', tokens: secrets(TOKEN, OTHER_TOKEN, 'c'.repeat(20), 'd'.repeat(40)), basic: [] });
  });

  it('read basic credentials from AUTH_BASIC_FILE, and both kinds with token+basic', () => {
    const basicFile = file('audit:s3cret:with:colons\nother:pw\n');
    assert.deepEqual(read({ AUTH_BASIC_FILE: basicFile }).auth, { mode: 'credentials', tokens: [], basic: secrets('audit:s3cret:with:colons', 'other:pw') });
    assert.deepEqual(read({ AUTH_MODE: 'token+basic', AUTH_TOKENS: TOKEN, AUTH_BASIC_FILE: basicFile }).auth, { mode: 'credentials', tokens: secrets(TOKEN), basic: secrets('audit:s3cret:with:colons', 'other:pw') });
  });

  it('read the cluster each credential names, several lines per cluster (rotation), none for the old format', () => {
    const tokenFile = file(`${TOKEN} prod-eu-1\n${OTHER_TOKEN}   prod-eu-1\n${'c'.repeat(20)}\n`);
    const basicFile = file('audit:pass\nops:pw:with:colons staging.us\n');
    const config = read({ AUTH_MODE: 'token+basic', AUTH_TOKEN_FILE: tokenFile, AUTH_TOKENS: `${'d'.repeat(16)} dev,${'e'.repeat(16)}`, AUTH_BASIC_FILE: basicFile });
    assert.deepEqual(config.auth, {
      mode: 'credentials',
      tokens: [{ secret: 'd'.repeat(16), cluster: 'dev' }, { secret: 'e'.repeat(16) }, { secret: TOKEN, cluster: 'prod-eu-1' }, { secret: OTHER_TOKEN, cluster: 'prod-eu-1' }, { secret: 'c'.repeat(20) }],
      basic: [{ secret: 'audit:pass' }, { secret: 'ops:pw:with:colons', cluster: 'staging.us' }],
    });
    assert.deepEqual(read({ AUTH_TOKENS: TOKEN, CLIENT_CERT_CLUSTER: 'O' }).clientCertCluster, 'O');
  });

  it('refuse credential lines with extra words or a cluster name unfit for file names, without quoting the line', () => {
    const found = problems({ AUTH_TOKENS: 'f'.repeat(16), AUTH_TOKEN_FILE: file(`${TOKEN} prod extra\n${OTHER_TOKEN} ../etc\n`), AUTH_BASIC_FILE: file('u:secret-pw a b\n'), CLIENT_CERT_CLUSTER: 'SAN' });
    assert.deepEqual(found, [
      'AUTH_TOKEN_FILE: entry 1 has 3 words: expected `<token>` or `<token> <cluster>` (no spaces inside either)',
      "AUTH_TOKEN_FILE: entry 2: the cluster name must be letters, digits, '.', '_' or '-' (at most 253, starting and ending with a letter or digit)",
      'AUTH_BASIC_FILE: entry 1 has 3 words: expected `username:password` or `username:password <cluster>` (no spaces inside either)',
      'CLIENT_CERT_CLUSTER: must be one of CN, O, not "SAN"',
    ]);
    for (const problem of found) assert.ok(!problem.includes(TOKEN.slice(0, 8)) && !problem.includes('secret-pw'), problem);
  });

  it('refuse a mode without its credentials, short tokens and malformed basic lines', () => {
    assert.match(problems({ AUTH_MODE: 'token' })[0]!, /^AUTH_MODE: asks for tokens, but none are configured \(AUTH_TOKENS, AUTH_TOKEN_FILE\)$/);
    assert.match(problems({ AUTH_MODE: 'basic' })[0]!, /^AUTH_MODE: asks for basic auth, but AUTH_BASIC_FILE is not set or empty$/);
    assert.equal(problems({ AUTH_MODE: 'token+basic' }).length, 2);
    assert.deepEqual(problems({ AUTH_MODE: 'basic', AUTH_TOKENS: TOKEN, AUTH_BASIC_FILE: file('a:b\n') }), [
      'AUTH_MODE: is basic, but tokens are configured (AUTH_TOKENS, AUTH_TOKEN_FILE) and would be ignored; remove them or use token+basic',
    ]);
    assert.match(problems({ AUTH_MODE: 'token', AUTH_TOKENS: TOKEN, AUTH_BASIC_FILE: file('a:b\n') })[0]!, /^AUTH_MODE: is token, but AUTH_BASIC_FILE is configured and would be ignored/);
    assert.deepEqual(problems({ AUTH_TOKENS: `${TOKEN},short,alsoshort` }), ['AUTH_TOKENS: every token must be at least 16 characters (use `openssl rand -hex 32`)']);
    assert.match(problems({ AUTH_TOKEN_FILE: file('tooshort\n') })[0]!, /^AUTH_TOKEN_FILE: every token must be at least 16/);
    assert.match(problems({}, { tokens: ['short'], tokenSetting: 'AUTH_TOKEN_PARAMETER' })[0]!, /^AUTH_TOKEN_PARAMETER: every token must be at least 16/);
    assert.match(problems({ AUTH_BASIC_FILE: file('ok:pw\nno-colon\n') })[0]!, /^AUTH_BASIC_FILE: line 2 is not username:password$/);
    assert.match(problems({ AUTH_TOKEN_FILE: join(dir, 'none') })[0]!, /^AUTH_TOKEN_FILE: .* does not exist$/);
  });

  it('never put a token into a message', () => {
    const secret = 'short-secret';
    for (const problem of problems({ AUTH_TOKENS: secret, AUTH_BASIC_FILE: file(`${secret}\n`) })) assert.ok(!problem.includes(secret), problem);
  });
});
