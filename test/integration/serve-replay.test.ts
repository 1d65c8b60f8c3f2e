// Every fixture file, and the real corpus when it is beside the project, through `kube-audit-relay serve` the way
// the API server's webhook sends it: EventLists of up to 400 items, over HTTP into a file and over HTTPS with a bearer
// token onto stdout. Secret redaction is off: these tests check that every byte arrives (redaction has its own).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Annotation } from '../../src/audit/annotations.ts';
import { batches, eventList, send } from '../support/http-client.ts';
import { realCorpusFiles, realCorpusSkip } from '../support/real-corpus.ts';
import { Fixture, fixtureFile, fixtureFiles } from '../support/records.ts';
import { startServe } from '../support/serve.ts';
import { createTestPki, type TestPki } from '../support/tls.ts';

/** The project's fixtures, and the real corpus when it is present (skipped with a reason otherwise). */
const sources = [
  { source: 'fixture', files: fixtureFiles(), skip: false as const },
  { source: 'real corpus', files: realCorpusFiles(), skip: realCorpusSkip() },
];
const AS_SENT = { REDACT_SECRETS: 'false' };
/** v1beta1 captures are sent in a v1beta1 EventList, as that API server would have. */
const listVersion = (lines: string[]): string =>
  lines.every((line) => line.includes('"apiVersion":"audit.k8s.io/v1beta1"')) ? 'audit.k8s.io/v1beta1' : 'audit.k8s.io/v1';

async function replay(url: string, lines: string[], options: Parameters<typeof send>[2] = {}): Promise<void> {
  for (const batch of batches(lines, 400)) {
    const answer = await send(url, eventList(batch, listVersion(lines)), options);
    assert.equal(answer.status, 200, answer.body);
    const counts = JSON.parse(answer.body) as { received: number; written: number };
    assert.equal(counts.received, batch.length);
  }
}

/**
 * The output holds exactly the input events, in order, each line byte-equal to the event as received. (Two events of
 * the real corpus share an auditID and stage but differ: both must be kept.)
 */
function assertSameEvents(input: string[], output: string[]): void {
  assert.equal(output.length, input.length);
  output.forEach((line, index) => assert.equal(line, input[index], `event ${index + 1}`));
}

for (const { source, files, skip } of sources) {
  describe(`${source} replay over http into a file`, { skip }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'kar-replay-'));
    for (const { name, lines } of files) {
      test(name, async () => {
        const output = join(dir, `${name}.log`);
        const server = await startServe(['--output', output], AS_SENT);
        try {
          await replay(server.url, lines);
        } finally {
          assert.equal(await server.stop(), 0);
        }
        const written = readFileSync(output, 'utf8').split('\n');
        assert.equal(written.pop(), '', 'the file ends with a newline');
        assertSameEvents(lines, written);
      });
    }
  });

  describe(`${source} replay over https with a bearer token onto stdout`, { skip }, () => {
    let pki: TestPki;
    const token = 'a3f1c9e2b7d4e6f8a1c3e5f7b9d2e4f6';
    before(() => {
      pki = createTestPki();
      writeFileSync(join(pki.dir, 'tokens'), `# rotated weekly\nold-token-0000000000000000\n${token}\n`);
    });

    for (const { name, lines } of files) {
      test(name, async () => {
        const server = await startServe(['--tls-cert', pki.serverCert, '--tls-key', pki.serverKey, '--token-file', join(pki.dir, 'tokens')], AS_SENT);
        try {
          assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+\/$/);
          await replay(server.url, lines, { ca: pki.read(pki.caCert), headers: { authorization: `Bearer ${token}` } });
        } finally {
          assert.equal(await server.stop(), 0);
        }
        const written = server.stdout().split('\n');
        assert.equal(written.pop(), '');
        assertSameEvents(lines, written);
        const batchLogs = server.logs().filter((entry) => entry.method === 'POST');
        assert.equal(batchLogs.length, Math.ceil(lines.length / 400), 'one log line per batch');
        assert.equal(batchLogs.reduce((sum, entry) => sum + (entry.written as number), 0), lines.length);
      });
    }
  });
}

describe('cluster name', () => {
  let server: Awaited<ReturnType<typeof startServe>>;
  before(async () => {
    server = await startServe(['--cluster', 'prod-eu-1'], AS_SENT);
  });
  after(() => server.stop());

  test('goes into each event as the project annotation and changes nothing else', async () => {
    const lines = fixtureFile(Fixture.Metadata);
    await replay(server.url, lines);
    const written = server.stdout().trim().split('\n');
    assert.equal(written.length, lines.length);
    written.forEach((line, index) => {
      const event = JSON.parse(line) as Record<string, unknown> & { annotations: Record<string, string> };
      const original = JSON.parse(lines[index]!) as Record<string, unknown> & { annotations?: Record<string, string> };
      assert.equal(event.annotations[Annotation.Cluster], 'prod-eu-1');
      const { [Annotation.Cluster]: _, ...others } = event.annotations;
      assert.deepEqual(others, original.annotations ?? {});
      assert.deepEqual({ ...event, annotations: undefined }, { ...original, annotations: undefined });
    });
  });
});
