// `kube-audit-relay detect` as a process: matches from a file or stdin, text and JSON, and lines that hold no event.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { detectionFixtures } from '../support/detection-fixtures.ts';

const bin = fileURLToPath(new URL('../../bin/kube-audit-relay.js', import.meta.url));
const run = promisify(execFile);
const fixtures = detectionFixtures();
const dir = mkdtempSync(join(tmpdir(), 'kar-detect-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const expected = fixtures.flatMap((fixture) => [...fixture.flaggedBy].map((rule) => `${rule} ${fixture.event.auditID}`)).sort();

/** Runs the bin with stdin text; resolves with the exit code and output. Killed after 60 s. */
async function withStdin(args: string[], stdin: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: process.env.PATH } });
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  try {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.stdin.end(stdin);
    const [code] = (await once(child, 'exit')) as [number | null];
    return { code, stdout, stderr };
  } finally {
    clearTimeout(timer);
    child.kill('SIGKILL');
  }
}

describe('kube-audit-relay detect as a process', () => {
  test('--json over an audit.log file prints exactly the fixture matches', { timeout: 90_000 }, async () => {
    const file = join(dir, 'audit.log');
    writeFileSync(file, fixtures.map((fixture) => JSON.stringify(fixture.event)).join('\n') + '\n');
    const { stdout, stderr } = await run(process.execPath, [bin, 'detect', '--json', file], { env: { PATH: process.env.PATH }, timeout: 60_000 });
    assert.equal(stderr, '');
    const matches = stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, string>);
    assert.deepEqual(matches.map((match) => `${match.rule} ${match.auditID}`).sort(), expected);
  });

  test('reads EventList lines from stdin, prints text lines, and names unreadable lines by number only', { timeout: 90_000 }, async () => {
    const exec = fixtures.find((fixture) => fixture.name === 'pod-exec-attach.yaml positive[0]')!.event;
    const body = JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', items: [exec] });
    const { code, stdout, stderr } = await withStdin(['detect'], `${body}\nnot json password=hunter2\n\n{"kind":"Status"}\n`);
    assert.equal(code, 1);
    assert.equal(stdout, '2026-01-05T10:00:00.010000Z medium pod-exec-attach alice@example.com create pods/exec shop/web-0 auditID=fixture-pod-exec-attach-positive-0\n');
    assert.match(stderr, /line 2 skipped: not JSON/);
    assert.match(stderr, /line 4 skipped: neither an audit Event nor an EventList/);
    assert.ok(!stderr.includes('hunter2'));
  });

  test('a missing file is an error that names it', { timeout: 90_000 }, async () => {
    const missing = join(dir, 'nope.log');
    await assert.rejects(run(process.execPath, [bin, 'detect', missing], { env: { PATH: process.env.PATH }, timeout: 60_000 }), (error: { code: number; stderr: string }) => {
      assert.equal(error.code, 1);
      assert.match(error.stderr, new RegExp(`cannot read ${missing}: ENOENT`));
      return true;
    });
  });
});
