import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  compactJson,
  JsonScanError,
  MAX_NESTING_DEPTH,
  parseSpan,
  skipWhitespace,
  type Span,
  valueEnd,
} from '../../src/audit/json-scan.ts';

const WHITESPACE = fc.string({ unit: fc.constantFrom(' ', '\n', '\r', '\t'), maxLength: 3 });
// Whole characters: the scanner reads UTF-8, which cannot hold a lone surrogate (an escape can; tested below).
const json = fc.jsonValue({ maxDepth: 4, stringUnit: 'grapheme' });

/** JSON.stringify with the given whitespace around every token, cycling through `pads`. */
function spaced(value: unknown, pads: readonly string[]): string {
  let n = 0;
  const pad = (): string => (pads.length === 0 ? '' : pads[n++ % pads.length]!);
  const write = (v: unknown): string => {
    if (Array.isArray(v)) return `[${pad()}${v.map((item) => `${pad()}${write(item)}${pad()}`).join(',')}${pad()}]`;
    if (typeof v === 'object' && v !== null) {
      const members = Object.entries(v).map(([key, item]) => `${pad()}${JSON.stringify(key)}${pad()}:${pad()}${write(item)}${pad()}`);
      return `{${pad()}${members.join(',')}${pad()}}`;
    }
    return JSON.stringify(v);
  };
  return write(value);
}

const utf8 = (text: string): Buffer => Buffer.from(text, 'utf8');
const byteLength = (text: string): number => Buffer.byteLength(text, 'utf8');

/** The whole-body check decode makes of a value: structure, then contents, then nothing but whitespace after it. */
function scan(text: string): unknown {
  const bytes = utf8(text);
  const start = skipWhitespace(bytes, 0);
  const end = valueEnd(bytes, start);
  if (skipWhitespace(bytes, end) !== bytes.length) throw new JsonScanError('trailing characters', end);
  return parseSpan(bytes, { start, end });
}

function scanError(text: string): JsonScanError {
  try {
    scan(text);
  } catch (error) {
    assert.ok(error instanceof JsonScanError, `expected JsonScanError, got ${String(error)}`);
    return error;
  }
  assert.fail('scan accepted malformed JSON');
}

describe('valueEnd and parseSpan on valid JSON', () => {
  it('find the end of any JSON value and parse it as JSON.parse does, with any whitespace around tokens', () => {
    fc.assert(
      fc.property(json, fc.array(WHITESPACE, { maxLength: 8 }), WHITESPACE, WHITESPACE, (value, pads, before, after) => {
        const body = spaced(value, pads);
        const text = `${before}${body}${after}`;
        const end = valueEnd(utf8(text), before.length);
        assert.equal(end, before.length + byteLength(body));
        assert.deepEqual(parseSpan(utf8(text), { start: before.length, end }), JSON.parse(body));
        assert.deepEqual(scan(text), JSON.parse(text));
      }),
      { numRuns: 300 },
    );
  });

  it('record each top-level member span, whose text parses to that member', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ unit: 'grapheme', maxLength: 6 }), json, { maxKeys: 8 }), fc.array(WHITESPACE, { maxLength: 5 }), (object, pads) => {
        const text = spaced(object, pads);
        const members = new Map<string, Span>();
        valueEnd(utf8(text), 0, members);
        const parsed = JSON.parse(text) as Record<string, unknown>;
        assert.deepEqual([...members.keys()].sort(), Object.keys(parsed).sort());
        for (const [key, span] of members) assert.deepEqual(JSON.parse(utf8(text).subarray(span.start, span.end).toString('utf8')), parsed[key]);
        // Spans come in text order, which is what decode's syntax check between members relies on.
        const starts = [...members.values()].map((span) => span.start);
        assert.deepEqual(starts, [...starts].sort((a, b) => a - b));
      }),
      { numRuns: 200 },
    );
  });

  it('keeps strings with escaped quotes and backslashes whole', () => {
    const text = String.raw`{"a\\":"\\\"}","b":["\\\\"],"c\"d":{"e":"\u0022"}}`;
    const members = new Map<string, Span>();
    assert.equal(valueEnd(utf8(text), 0, members), byteLength(text));
    assert.deepEqual([...members.keys()], ['a\\', 'b', 'c"d']);
    assert.deepEqual(parseSpan(utf8(text), members.get('c"d')!), { e: '"' });
  });

  it('accepts lone surrogates written as escapes, as JSON does', () => {
    const text = String.raw`{"\ud800":"\udc00x","k":"\ud83d\ude00"}`;
    assert.deepEqual(scan(text), JSON.parse(text));
  });

  it('accepts nesting up to MAX_NESTING_DEPTH and refuses one level more', () => {
    const nested = (depth: number): string => `${'['.repeat(depth - 1)}{"a":1}${']'.repeat(depth - 1)}`;
    assert.equal(valueEnd(utf8(nested(MAX_NESTING_DEPTH)), 0), nested(MAX_NESTING_DEPTH).length);
    const error = scanError(nested(MAX_NESTING_DEPTH + 1));
    assert.match(error.message, new RegExp(`^nested deeper than ${MAX_NESTING_DEPTH} levels at byte ${MAX_NESTING_DEPTH}$`));
  });
});

describe('duplicate keys', () => {
  it('are refused at any depth, also when one spelling uses escapes', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ maxLength: 4 }), json, { minKeys: 1, maxKeys: 5 }),
        fc.nat(),
        fc.array(fc.constantFrom('{"x":', '[', '{"y":[1,'), { maxLength: 3 }),
        fc.boolean(),
        (object, pick, wrappers, escaped) => {
          const keys = Object.keys(object);
          const key = keys[pick % keys.length]!;
          const spelling = escaped ? `"${[...key].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')}"` : JSON.stringify(key);
          const inner = `${JSON.stringify(object).slice(0, -1)},${spelling}:0}`;
          const closers = wrappers.map((w) => (w.startsWith('{') ? (w.includes('[') ? ']}' : '}') : ']')).reverse();
          const text = `${wrappers.join('')}${inner}${closers.join('')}`;
          assert.doesNotThrow(() => JSON.parse(text));
          const error = scanError(text);
          assert.equal(error.reason, 'duplicate object key');
          assert.equal(utf8(text).subarray(error.offset, error.offset + byteLength(spelling)).toString('utf8'), spelling);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('are allowed in different objects', () => {
    assert.deepEqual(scan('{"a":{"a":1},"b":[{"a":2},{"a":3}]}'), { a: { a: 1 }, b: [{ a: 2 }, { a: 3 }] });
  });
});

describe('malformed input', () => {
  const SECRET = 'hunter2';
  const cases: Record<string, string> = {
    'truncated object': `{"password":"${SECRET}"`,
    'truncated string': `{"password":"${SECRET}`,
    'truncated array': `["${SECRET}",`,
    'trailing garbage': `{"a":"${SECRET}"} ${SECRET}`,
    'second value': `{"a":1}{"b":"${SECRET}"}`,
    'bad escape': `{"a":"${SECRET}\\x"}`,
    'short unicode escape': `{"a":"${SECRET}\\u12"}`,
    'control character in a string': `{"a":"${SECRET}\u0001"}`,
    'raw newline in a string': `{"a":"${SECRET}\n"}`,
    'leading zero': `{"a":"${SECRET}","n":01}`,
    'no digits after the point': `{"a":"${SECRET}","n":1.}`,
    'lone minus': `{"a":"${SECRET}","n":-}`,
    'exponent without digits': `{"a":"${SECRET}","n":1e}`,
    'plus sign': `{"a":"${SECRET}","n":+1}`,
    'single quotes': `{'a':'${SECRET}'}`,
    'unquoted key': `{a:"${SECRET}"}`,
    'missing comma': `{"a":"${SECRET}" "b":1}`,
    'missing colon': `{"a" "${SECRET}"}`,
    'trailing comma': `{"a":"${SECRET}",}`,
    'mismatched bracket': `{"a":["${SECRET}"}]`,
    'bare word': `{"a":${SECRET}}`,
    'NaN': `{"a":"${SECRET}","n":NaN}`,
    'bad escape in a key': `{"${SECRET}\\q":1}`,
    'empty text': '',
    'whitespace only': ' \n\t',
  };
  for (const [name, text] of Object.entries(cases)) {
    it(`${name}: JsonScanError with an offset inside the bytes and no content`, () => {
      assert.throws(() => JSON.parse(text));
      const error = scanError(text);
      assert.ok(error.offset >= 0 && error.offset <= byteLength(text), `offset ${error.offset}`);
      assert.equal(error.message, `${error.reason} at byte ${error.offset}`);
      assert.ok(!error.message.includes(SECRET));
      assert.match(error.reason, /^[a-zA-Z0-9 ,'{}[\]:]+$/);
    });
  }

  it('never accepts what JSON.parse refuses, and refuses only duplicate keys of what it accepts', () => {
    const mutated = fc
      .tuple(json, fc.nat(), fc.constantFrom('delete', 'insert', 'replace'), fc.constantFrom(...'{}[]":,\\ 0-.eE1tnf\u0001'))
      .map(([value, at, how, char]) => {
        const text = JSON.stringify(value);
        const i = text.length === 0 ? 0 : at % text.length;
        if (how === 'delete') return text.slice(0, i) + text.slice(i + 1);
        if (how === 'insert') return text.slice(0, i) + char + text.slice(i);
        return text.slice(0, i) + char + text.slice(i + 1);
      })
      // What its UTF-8 bytes say: a cut through a surrogate pair leaves half of it, which UTF-8 cannot hold.
      .map((text) => utf8(text).toString('utf8'));
    fc.assert(
      fc.property(mutated, (text) => {
        let parsed: unknown;
        let valid = true;
        try {
          parsed = JSON.parse(text);
        } catch {
          valid = false;
        }
        let scanned: unknown;
        let error: unknown;
        try {
          scanned = scan(text);
        } catch (caught) {
          error = caught;
        }
        if (error === undefined) {
          assert.ok(valid, 'scan accepted what JSON.parse refuses');
          assert.deepEqual(scanned, parsed);
        } else {
          assert.ok(error instanceof JsonScanError);
          assert.ok(error.offset >= 0 && error.offset <= byteLength(text));
          if (valid) assert.equal(error.reason, 'duplicate object key');
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('compactJson', () => {
  it('removes exactly the whitespace outside strings', () => {
    fc.assert(
      fc.property(json, fc.array(WHITESPACE, { minLength: 1, maxLength: 8 }), (value, pads) => {
        assert.equal(compactJson(utf8(spaced(value, pads))).toString('utf8'), JSON.stringify(value));
      }),
      { numRuns: 300 },
    );
  });

  it('keeps number spellings and escapes as written', () => {
    const text = '{\r\n  "n" : 1.0 ,\n  "e":1E3,\t"s" : "caf\\u00e9 \\n \\" x",\n  "m": -0.50e-0 }';
    assert.equal(compactJson(utf8(text)).toString('utf8'), '{"n":1.0,"e":1E3,"s":"caf\\u00e9 \\n \\" x","m":-0.50e-0}');
  });
});
