// The public real-event corpus beside the project (../shared/fixtures/real/): a second, larger source of events.
// A clone on its own does not have it, so suites over it skip with a reason; CI sets KAR_REAL_CORPUS=required
// (.ci/run) so that a missing corpus fails the run instead of quietly testing less.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fixtureFiles } from './records.ts';

/** Where the real corpus lives when the project is checked out beside ../shared. */
export const REAL_CORPUS_DIR = fileURLToPath(new URL('../../../shared/fixtures/real/', import.meta.url));

/** The environment variable that makes the real corpus required, and the value that does. */
export const REAL_CORPUS_VARIABLE = 'KAR_REAL_CORPUS';
export const REAL_CORPUS_REQUIRED = 'required';

/** What node:test prints for a suite over the real corpus when the corpus is absent. */
export const REAL_CORPUS_SKIPPED = 'skipped: ../shared/fixtures/real not found';

/**
 * The `skip` option for a suite over the real corpus: false when it is present, the reason when it is absent.
 * Throws when it is absent and KAR_REAL_CORPUS=required, which fails the test file that asked.
 */
export function realCorpusSkip(env: NodeJS.ProcessEnv = process.env, dir = REAL_CORPUS_DIR): false | string {
  if (existsSync(dir)) return false;
  if (env[REAL_CORPUS_VARIABLE] === REAL_CORPUS_REQUIRED) {
    throw new Error(
      `${REAL_CORPUS_VARIABLE}=${REAL_CORPUS_REQUIRED} but ${dir} does not exist: check out the shared fixtures beside the project, or unset ${REAL_CORPUS_VARIABLE}`,
    );
  }
  return REAL_CORPUS_SKIPPED;
}

/** The real corpus's *.jsonl files, or none when it is absent (its suites are then skipped by realCorpusSkip). */
export const realCorpusFiles = (): { name: string; lines: string[] }[] => (existsSync(REAL_CORPUS_DIR) ? fixtureFiles(REAL_CORPUS_DIR) : []);
