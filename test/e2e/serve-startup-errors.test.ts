// `serve` as an installed process that cannot start: each cause is one problem line naming the flag and the fix, exit
// 2 (a configuration error), and no stack trace.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createTestPki, type TestPki } from '../support/tls.ts';

const bin = fileURLToPath(new URL('../../bin/kube-audit-relay.js', import.meta.url));

/** Runs `serve` with the arguments; a serve that starts anyway is killed after 10 s and fails the assertions. */
function serve(args: readonly string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, 'serve', ...args], { env: { PATH: process.env.PATH }, timeout: 10_000 }, (error, _stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stderr });
    });
  });
}

function assertOneProblem(result: { code: number | null; stderr: string }, problem: RegExp): void {
  assert.equal(result.code, 2, result.stderr);
  const lines = result.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line, got:\n${result.stderr}`);
  assert.ok(lines[0]!.startsWith('kube-audit-relay serve: '), result.stderr);
  assert.match(lines[0]!.slice('kube-audit-relay serve: '.length), problem);
  assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
}

describe('serve refuses to start with one clear line and exit 2', () => {
  let pki: TestPki;
  let holder: Server;
  let busyPort: number;

  before(async () => {
    pki = createTestPki();
    holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    busyPort = (holder.address() as { port: number }).port;
  });
  after(() => {
    holder.close();
    rmSync(pki.dir, { recursive: true, force: true });
  });

  test('a port already in use names --port and says what to do', async () => {
    assertOneProblem(await serve(['--port', String(busyPort)]), new RegExp(`^--port \\(LISTEN_PORT\\): 127\\.0\\.0\\.1:${busyPort} is already in use \\(EADDRINUSE\\); stop the process listening there or choose another port$`));
  });

  test('a key that is not the certificate\'s names --tls-key', async () => {
    const result = await serve(['--port', '0', '--tls-cert', pki.serverCert, '--tls-key', pki.clientKey]);
    assertOneProblem(result, /^--tls-key \(TLS_KEY_FILE\): \S+client\.key is not the private key of the certificate in \S+server\.crt \(x509 certificate routines::key values mismatch\); give the key the certificate was issued for$/);
  });

  test('a certificate file that is not PEM names --tls-cert', async () => {
    const result = await serve(['--port', '0', '--tls-cert', pki.serverKey, '--tls-key', pki.serverKey]);
    assertOneProblem(result, /^--tls-cert \(TLS_CERT_FILE\): \S+server\.key is not a certificate chain OpenSSL can use \(.+\); give it in PEM form$/);
  });

  test('an output that cannot be opened names --output', async () => {
    assertOneProblem(await serve(['--port', '0', '--output', `${pki.dir}/missing-directory/audit.log`]), /^--output \(OUTPUTS\): cannot open \S+\/missing-directory\/audit\.log for appending \(ENOENT\); check the directory exists and is writable, or give another path$/);
    assertOneProblem(await serve(['--port', '0', '--output', pki.dir]), /^--output \(OUTPUTS\): cannot open \S+ for appending \(EISDIR\)/);
  });

  test('an unreadable certificate file names --tls-cert', async () => {
    assertOneProblem(await serve(['--port', '0', '--tls-cert', `${pki.dir}/nope.crt`, '--tls-key', pki.serverKey]), /^--tls-cert \(TLS_CERT_FILE\): \S+nope\.crt does not exist$/);
  });
});
