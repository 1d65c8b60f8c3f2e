// The README's kube-audit-relay commands work as written in a clone, where the bin is not on PATH: each goes through
// `npx`, npx finds the clone's own bin, and the generating commands succeed with the files the README names.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { runCommand } from '../support/cli.ts';
import { REPO_ROOT } from '../support/serverless.ts';
import { createTestPki, type TestPki } from '../support/tls.ts';

const run = promisify(execFile);
const INVOCATION = /\bkube-audit-relay (serve|kubeconfig|policy|flags|kubeadm-patch|doctor|replay|detect|cost)\b/;

/** Every command line of the README's ```sh blocks, continuation lines joined and trailing comments removed. */
function readmeCommands(): string[] {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  return [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((block) =>
    block[1]!
      .replace(/\\\n\s*/g, ' ')
      .split('\n')
      .map((line) => line.replace(/\s+#\s.*$/, '').trim())
      .filter((line) => line !== '' && !line.startsWith('#')),
  );
}

/** The words after `kube-audit-relay`, as the shell would pass them; a `$(...)` stands for the address it prints. */
function argumentsOf(command: string): string[] {
  const words = [...command.replace(/\$\([^)]*\)/g, '10.96.0.10').matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((match) => match[1] ?? match[2] ?? match[3]!);
  return words.slice(words.indexOf('kube-audit-relay') + 1);
}

const invocations = readmeCommands().filter((command) => INVOCATION.test(command));

describe("the README's commands", () => {
  let dir: string;
  let pki: TestPki;
  const cwd = process.cwd();
  before(() => {
    // The files the README's commands read, in a directory of their own as a user's would be.
    pki = createTestPki();
    dir = mkdtempSync(join(tmpdir(), 'kar-readme-'));
    writeFileSync(join(dir, 'token'), '0f1e2d3c4b5a69788796a5b4c3d2e1f0\n');
    writeFileSync(join(dir, 'ca.crt'), pki.read(pki.caCert));
    writeFileSync(
      join(dir, 'stack.json'),
      JSON.stringify({ Stacks: [{ Outputs: [{ OutputKey: 'PrivateInvokeUrl', OutputValue: 'https://a1b2c3d4e5-vpce-0a1b2c3d4e5f60718.execute-api.eu-west-1.amazonaws.com/prod/' }] }] }),
    );
    writeFileSync(
      join(dir, 'relay-deployment.json'),
      JSON.stringify({ name: 'azuredeploy', properties: { provisioningState: 'Succeeded', outputs: { privateUrl: { type: 'String', value: 'https://relay.azurewebsites.net/api/audit' } } } }),
    );
    process.chdir(dir);
  });
  after(() => {
    process.chdir(cwd);
    rmSync(dir, { recursive: true, force: true });
    rmSync(pki.dir, { recursive: true, force: true });
  });

  test('every kube-audit-relay command goes through npx', () => {
    assert.ok(invocations.length >= 10, `found ${invocations.length}`);
    for (const command of invocations) assert.match(command, /\bnpx kube-audit-relay /, command);
  });

  test('npx finds the clone\'s own kube-audit-relay with nothing on PATH but node and npm', async () => {
    // --no: fail rather than fetch a package of that name from the registry
    // `npm test` puts node_modules/.bin on PATH; a user's shell does not have it.
    const path = (process.env.PATH ?? '').split(':').filter((entry) => !entry.includes('node_modules')).join(':');
    const { stdout } = await run('npx', ['--no', 'kube-audit-relay', 'policy', '--preset', 'minimal'], { cwd: REPO_ROOT, env: { PATH: path, HOME: process.env.HOME }, timeout: 60_000 });
    assert.match(stdout, /^kind: Policy$/m);
  });

  test('the generating commands succeed as written', async () => {
    const generating = invocations.filter((command) => /kube-audit-relay (kubeconfig|policy|flags) /.test(command));
    assert.ok(generating.length >= 8, `found ${generating.length}`);
    for (const command of generating) {
      const result = await runCommand(argumentsOf(command));
      assert.equal(result.code, 0, `${command}\n${result.stderr}`);
    }
  });
});
