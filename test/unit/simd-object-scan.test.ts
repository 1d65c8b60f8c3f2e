// The WebAssembly SIMD object scan against the JavaScript one it stands in for: for any bytes, the same result or the
// same error, whether the module decided or handed the object back; over the project's fixtures and the real corpus
// nearly every event is decided by the module. Also: the module is the assembled .wat, windows smaller than an object
// and bodies scanned in turns give the same results.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { scanObject } from '../../src/audit/json-scan.ts';
import { objectScanner } from '../../src/audit/simd-object-scan.ts';
import { assembledModule, MODULE_PATH } from '../../tools/assemble-wasm.ts';
import { realCorpusFiles, realCorpusSkip } from '../support/real-corpus.ts';
import { fixtureFiles } from '../support/records.ts';

/** What a scan gives: its result, or the message of what it threw. */
function outcome(scan: () => unknown): unknown {
  try {
    return scan();
  } catch (error) {
    return { threw: (error as Error).message };
  }
}

/** The lines in one JSON array, with the offset of each line's first byte. */
function arrayOf(lines: readonly string[]): { bytes: Buffer; offsets: number[] } {
  const offsets: number[] = [];
  let offset = 1;
  for (const line of lines) {
    offsets.push(offset);
    offset += Buffer.byteLength(line) + 1;
  }
  return { bytes: Buffer.from(`[${lines.join(',')}]`), offsets };
}

/** Scans every line both ways and returns how many the module decided. */
function assertSameOnLines(lines: readonly string[], windowBytes?: number): number {
  const { bytes, offsets } = arrayOf(lines);
  const scanner = objectScanner(bytes, windowBytes);
  for (const offset of offsets) assert.deepEqual(outcome(() => scanner.scan(offset)), outcome(() => scanObject(bytes, offset)), `the object at byte ${offset}`);
  return scanner.simdScans;
}

// Strings heavy in the characters that decide a scan, so that escapes and quotes fall on every byte of a 64-byte block.
const tricky = fc.string({ unit: fc.constantFrom('a', '"', '\\', '{', '}', '[', ']', ',', ':', '\n', 'é'), maxLength: 90 });
// Mostly plain keys, as events have: a key longer than "annotations" with an escape is handed back to scanObject.
const key = fc.oneof({ arbitrary: fc.constant('annotations'), weight: 1 }, { arbitrary: fc.string({ maxLength: 12 }), weight: 6 }, { arbitrary: tricky, weight: 1 });
// Keys written as they are, escapes included: `annot\u0061tions` is "annotations" to JSON.parse.
const rawKey = fc.constantFrom('"annot\\u0061tions"', '"annotations\\n"', '"a\\"b"');
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    tricky,
    fc.integer(),
    fc.constant(null),
    fc.boolean(),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(key, tie('value'), { maxKeys: 4 }),
  ),
})).value;
const member = fc.oneof(
  fc.tuple(key, value).map(([name, item]) => `${JSON.stringify(name)}:${JSON.stringify(item)}`),
  fc.tuple(rawKey, value).map(([name, item]) => `${name}:${JSON.stringify(item)}`),
);
const whitespace = fc.constantFrom('', ' ', '\n', '\t', '\r\n');
const object = fc
  .tuple(fc.array(fc.tuple(whitespace, member), { maxLength: 8 }), whitespace)
  .map(([members, end]) => `{${members.map(([space, text]) => `${space}${text}`).join(',')}${end}}`);
// Objects with a character put in anywhere, most of them no longer JSON: both scanners must still agree.
const damaged = fc.tuple(object, fc.nat(), fc.constantFrom('"', '\\', '{', '}', '[', ']', ',', ':', 'x', '\n')).map(([text, at, character]) => {
  const i = at % (text.length + 1);
  return text.slice(0, i) + character + text.slice(i);
});

describe('the WebAssembly SIMD object scan', () => {
  it('is simd-object-scan.wat as assembled now', async () => {
    assert.equal(readFileSync(MODULE_PATH, 'utf8'), await assembledModule(), 'run `npm run wasm` after changing the .wat');
  });

  it('finds what scanObject finds in every fixture event, nearly all by itself', () => {
    const lines = fixtureFiles().flatMap((file) => file.lines);
    const bySimd = assertSameOnLines(lines);
    assert.ok(bySimd >= lines.length * 0.9, `${bySimd} of ${lines.length} events scanned by the module`);
  });

  it('finds what scanObject finds, or throws what it throws, for any object, at any offset, JSON or not', () => {
    let bySimd = 0;
    let scanned = 0;
    fc.assert(
      fc.property(fc.oneof(object, damaged), fc.nat(130), fc.string({ maxLength: 70 }), (text, padding, after) => {
        const bytes = Buffer.from(`${' '.repeat(padding)}${text}${after}`);
        const scanner = objectScanner(bytes);
        assert.deepEqual(outcome(() => scanner.scan(padding)), outcome(() => scanObject(bytes, padding)), JSON.stringify(text));
        bySimd += scanner.simdScans;
        scanned++;
      }),
      { numRuns: 20_000 },
    );
    // Escaped keys, annotations that are not objects and damage send the rest to scanObject; about a quarter remain.
    assert.ok(bySimd > scanned / 5, `${bySimd} of ${scanned} objects scanned by the module`);
  });

  it('gives the same results with windows smaller than the objects, and across bodies scanned in turns', () => {
    const lines = fixtureFiles()
      .flatMap((file) => file.lines)
      .slice(0, 60);
    // 700 bytes: most fixture events (561 to 2,373 bytes) do not fit and go back to scanObject after one reload.
    for (const window of [700, 1024, 4096]) assert.ok(assertSameOnLines(lines, window) > 0, `a ${window}-byte window: none scanned by the module`);
    const first = arrayOf(lines.slice(0, 30));
    const second = arrayOf(lines.slice(30));
    const scanners = [objectScanner(first.bytes, 4096), objectScanner(second.bytes, 4096)];
    for (let i = 0; i < 30; i++) {
      for (const [which, { bytes, offsets }] of [first, second].entries()) {
        if (i >= offsets.length) continue;
        assert.deepEqual(scanners[which]!.scan(offsets[i]!), scanObject(bytes, offsets[i]!));
      }
    }
    assert.ok(scanners.every((scanner) => scanner.simdScans > 0));
  });

  it('hands back what scanObject must decide: nesting past 1000, an escaped annotations key, annotations that are not an object', () => {
    const deep = `{"a":${'['.repeat(1000)}${']'.repeat(1000)}}`;
    for (const text of [deep, '{"annot\\u0061tions":{"a":"b"}}', '{"annotations":null}', '{"annotations" : "x"}', '{"a":1,"annotations":7}']) {
      const bytes = Buffer.from(text);
      const scanner = objectScanner(bytes);
      assert.deepEqual(outcome(() => scanner.scan(0)), outcome(() => scanObject(bytes, 0)), text);
      assert.equal(scanner.simdScans, 0, text);
    }
    const annotated = Buffer.from('{"a":1, "annotations" :\n{"b":"c"},"d":[{"e":"\\"}"}]}');
    const scanner = objectScanner(annotated);
    assert.deepEqual(scanner.scan(0), { end: annotated.length, keys: 5, multiline: true, annotations: { start: 24, end: 33 } });
    assert.deepEqual(scanner.scan(0), scanObject(annotated, 0));
    assert.equal(scanner.simdScans, 2);
  });
});

describe('the WebAssembly SIMD object scan over the real corpus', { skip: realCorpusSkip() }, () => {
  it('finds what scanObject finds in every event, nearly all by itself', () => {
    const lines = realCorpusFiles().flatMap((file) => file.lines);
    assert.ok(lines.length > 0);
    const bySimd = assertSameOnLines(lines);
    assert.ok(bySimd >= lines.length * 0.9, `${bySimd} of ${lines.length} events scanned by the module`);
  });
});
