// What the CLI says when something is wrong: a file or port problem is one line naming the flag the user gave, without
// the usage text; problems and their advice name flags, not only variables; --help lists --version.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCommand } from '../support/cli.ts';
import { serveRefusal } from '../support/serve.ts';

describe('CLI messages', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kar-cli-messages-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test('--help lists --version and --help, and -v prints the version', async () => {
    const help = await runCommand(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^ {2}-v, --version +print the version$/m);
    assert.match(help.stdout, /^ {2}-h, --help +this text$/m);
    assert.match((await runCommand(['-v'])).stdout, /^\d+\.\d+\.\d+\n$/);
  });

  test('a missing file for serve is one line naming the flag, without the usage text, exit 2', async () => {
    const { code, stderr } = await serveRefusal(['--token-file', join(dir, 'missing-tokens')]);
    assert.equal(code, 2);
    assert.equal(stderr, `kube-audit-relay serve: --token-file (AUTH_TOKEN_FILE): ${join(dir, 'missing-tokens')} does not exist\n`);
  });

  test('an output that cannot be written is one line naming -o, exit 1', async () => {
    const target = join(dir, 'no-such-dir', 'policy.yaml');
    const result = await runCommand(['policy', '--preset', 'minimal', '-o', target]);
    assert.equal(result.code, 1);
    assert.equal(result.stderr, `kube-audit-relay policy: -o ${target} cannot be written (ENOENT): check the directory exists and is writable\n`);
  });

  test('a port in use is one line naming --port, not a stack trace', async () => {
    // arrange: hold a loopback port
    const holder: Server = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as { port: number };
    try {
      // act
      const { code, stderr } = await serveRefusal(['--port', String(port)]);

      // assert
      assert.equal(code, 2);
      assert.equal(stderr.trim().split('\n').length, 1, stderr);
      assert.match(stderr, new RegExp(`^kube-audit-relay serve: --port \\(LISTEN_PORT\\): 127\\.0\\.0\\.1:${port} is already in use \\(EADDRINUSE\\); stop the process listening there or choose another port\\n$`));
      const metrics = await serveRefusal(['--metrics-port', String(port)]);
      assert.match(metrics.stderr, new RegExp(`^kube-audit-relay serve: --metrics-port \\(METRICS_PORT\\): 127\\.0\\.0\\.1:${port} is already in use`));
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });

  test('problems and their advice name the flag the user gave, not only its variable', async () => {
    // arrange: a token file with a short token, basic auth asked for but not given; rules both inline and from a file
    const tokens = join(dir, 'short-tokens');
    writeFileSync(tokens, 'short\n');
    const rules = join(dir, 'rules.yaml');
    writeFileSync(rules, '[]\n');

    // act
    const auth = await serveRefusal(['--token-file', tokens, '--auth-mode', 'basic']);
    const dropRules = await serveRefusal(['--drop-rules-file', rules], { DROP_RULES: '[]' });

    // assert
    assert.equal(auth.code, 2);
    assert.match(auth.stderr, /--auth-mode \(AUTH_MODE\): asks for basic auth, but --basic-auth-file \(AUTH_BASIC_FILE\) is not set or empty/);
    assert.match(auth.stderr, /--auth-mode \(AUTH_MODE\): is basic, but tokens are configured \(AUTH_TOKENS, --token-file \(AUTH_TOKEN_FILE\)\)/);
    assert.match(auth.stderr, /--token-file \(AUTH_TOKEN_FILE\): every token must be at least 16 characters/);
    assert.match(dropRules.stderr, /DROP_RULES: set either DROP_RULES or --drop-rules-file \(DROP_RULES_FILE\), not both/);
  });
});
