// The project's own fixture events: what they cover, that the generated one is what its generator prints, and how
// suites over the optional real corpus behave without it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import type { AuditEvent } from '../../src/audit/types.ts';
import { REAL_CORPUS_SKIPPED, realCorpusSkip } from '../support/real-corpus.ts';
import { carriesSecretValues, Fixture, FIXTURES_DIR, fixtureFile, fixtureRecords } from '../support/records.ts';

const run = promisify(execFile);
const events = fixtureRecords().map((record) => record.event as AuditEvent & Record<string, unknown>);

describe('project fixtures', () => {
  test('cover both API versions, every level that records, Secrets with data, a TokenReview, non-ASCII and unknown fields', () => {
    assert.deepEqual(new Set(events.map((event) => event.apiVersion ?? 'none')), new Set(['audit.k8s.io/v1', 'audit.k8s.io/v1beta1', 'none']));
    assert.deepEqual(new Set(events.map((event) => event.level)), new Set(['Metadata', 'Request', 'RequestResponse']));
    assert.ok(events.some((event) => event.objectRef?.resource === 'secrets' && carriesSecretValues(event)));
    assert.ok(events.some((event) => event.objectRef?.resource === 'tokenreviews' && carriesSecretValues(event)));
    assert.ok(fixtureFile(Fixture.Unusual).some((line) => /[^\x00-\x7f]/.test(line)));
    assert.ok(events.some((event) => 'futureTopLevelField' in event));
    assert.ok(events.some((event) => 'authenticationMetadata' in event));
    const sizes = fixtureFile(Fixture.Large).map((line) => Buffer.byteLength(line));
    assert.ok(sizes.some((size) => size > 65_536 && size < 100_000) && sizes.filter((size) => size > 100_000).length >= 2, `${sizes}`);
  });

  test('v1-large.jsonl is exactly what its generator prints', { timeout: 30_000 }, async () => {
    const generator = fileURLToPath(new URL('../fixtures/generate-large.ts', import.meta.url));
    const { stdout } = await run(process.execPath, ['--import', 'tsx', generator], { maxBuffer: 4 * 1024 * 1024, timeout: 25_000 });
    assert.equal(stdout, readFileSync(join(FIXTURES_DIR, Fixture.Large), 'utf8'));
  });
});

describe('the optional real corpus', () => {
  const absent = join(FIXTURES_DIR, 'no-such-corpus');
  test('present: its suites run', () => {
    assert.equal(realCorpusSkip({}, FIXTURES_DIR), false);
  });
  test('absent: its suites are skipped with a reason', () => {
    assert.equal(realCorpusSkip({}, absent), REAL_CORPUS_SKIPPED);
    assert.equal(REAL_CORPUS_SKIPPED, 'skipped: ../shared/fixtures/real not found');
  });
  test('absent while KAR_REAL_CORPUS=required: the suite asking fails, saying what to do', () => {
    assert.throws(() => realCorpusSkip({ KAR_REAL_CORPUS: 'required' }, absent), /^Error: KAR_REAL_CORPUS=required but .*no-such-corpus does not exist: check out the shared fixtures beside the project, or unset KAR_REAL_CORPUS$/);
  });
});
