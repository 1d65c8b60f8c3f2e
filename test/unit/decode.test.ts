import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { BodyFormat, decodeBody, type DecodedBody, type DecodedItem } from '../../src/audit/decode.ts';
import { compactJson, type Span } from '../../src/audit/json-scan.ts';
import { AuditApiVersion } from '../../src/audit/types.ts';
import { RequestError } from '../../src/errors.ts';
import { realCorpusFiles, realCorpusSkip } from '../support/real-corpus.ts';
import { Fixture, fixtureFile, fixtureFiles } from '../support/records.ts';

const SECRET = 'c2VjcmV0LXZhbHVl';
const files = fixtureFiles();
const eventList = (items: readonly string[], apiVersion: string = AuditApiVersion.V1): string =>
  `{"kind":"EventList","apiVersion":"${apiVersion}","metadata":{},"items":[${items.join(',')}]}`;
interface Decoded extends DecodedBody {
  readonly items: readonly DecodedItem[];
}

/** Decodes and parses every item, checking the count given up front. */
function decode(text: string): Decoded {
  const body = decodeBody(new TextEncoder().encode(text));
  const items = [...body.items];
  assert.equal(body.count, items.length);
  return { ...body, items };
}

/** Asserts a 400 whose message matches `expected` and quotes nothing of the event. */
function assertRefused(body: string | Uint8Array, expected: RegExp): void {
  const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
  assert.throws(
    () => [...decodeBody(bytes).items],
    (error: unknown) => {
      assert.ok(error instanceof RequestError, String(error));
      assert.equal(error.status, 400);
      assert.match(error.message, expected);
      assert.ok(!error.message.includes(SECRET), `message quotes event content: ${error.message}`);
      return true;
    },
  );
}

const textOf = (item: DecodedItem): string => item.utf8.toString('utf8');
/** The text of a span of the item's bytes. */
const spanText = (item: DecodedItem, span: Span): string => item.utf8.subarray(span.start, span.end).toString('utf8');
const compacted = (line: string): string => compactJson(Buffer.from(line, 'utf8')).toString('utf8');

/** Every item's bytes are the received line's and its member spans parse to the item's own members. */
function assertItemsAre(decoded: Decoded, lines: readonly string[]): void {
  assert.equal(decoded.items.length, lines.length);
  decoded.items.forEach((item, index) => {
    assert.equal(textOf(item), lines[index]);
    assert.deepEqual(item.value, JSON.parse(lines[index]!));
    const value = item.value as Record<string, unknown>;
    assert.deepEqual([...item.members.keys()].sort(), Object.keys(value).sort());
    for (const [key, span] of item.members) assert.deepEqual(JSON.parse(spanText(item, span)), value[key]);
  });
}

function keepsEveryItem(lines: readonly string[]): void {
  for (let from = 0; from < lines.length; from += 400) {
    const batch = lines.slice(from, from + 400);
    const decoded = decode(eventList(batch));
    assert.equal(decoded.format, BodyFormat.EventList);
    assertItemsAre(decoded, batch);
    assert.ok(decoded.items.every((item, index) => item.label === `items[${index}]` && item.listApiVersion === AuditApiVersion.V1));
  }
}

function readsAsJsonLines(lines: readonly string[]): void {
  const decoded = decode(`${lines.join('\n')}\n`);
  assert.equal(decoded.format, lines.length > 1 ? BodyFormat.JsonLines : BodyFormat.Event);
  assertItemsAre(decoded, lines);
}

describe('the real corpus', { skip: realCorpusSkip() }, () => {
  for (const { name, lines } of realCorpusFiles()) {
    it(`keeps every item of ${name} byte for byte, 400 to a list`, () => keepsEveryItem(lines));
    it(`reads ${name} as JSON lines, byte for byte`, () => readsAsJsonLines(lines));
  }
});

describe('EventList bodies', () => {
  for (const { name, lines } of files) {
    it(`keeps every item of ${name} byte for byte, 400 to a list`, () => keepsEveryItem(lines));
  }

  it('labels an audit.k8s.io/v1beta1 list for its items', () => {
    const lines = fixtureFile(Fixture.V1beta1);
    const decoded = decode(eventList(lines, AuditApiVersion.V1beta1));
    assertItemsAre(decoded, lines);
    assert.ok(decoded.items.every((item) => item.listApiVersion === AuditApiVersion.V1beta1));
  });

  it('keeps field order, unknown fields, number spellings and escapes', () => {
    const line = '{"zeta":1.0,"auditID":"a","stage":"ResponseComplete","big":1e3,"neg":-0.0,"name":"caf\\u00e9 \\/ \\ud83d\\ude00","unknown":{"b":[1.50,2E-2],"a":null}}';
    const decoded = decode(eventList([line]));
    assert.equal(textOf(decoded.items[0]!), line);
  });

  it('keeps items with characters outside ASCII as received, spans counted in bytes of the item', () => {
    const lines = [
      '{"auditID":"a1","stage":"ResponseComplete","user":{"username":"zoë"},"annotations":{"k":"ü"},"requestURI":"/x"}',
      '{"auditID":"a2","stage":"ResponseComplete","annotations":{"plain":"ascii"}}',
      '{"auditID":"a3","stage":"ResponseComplete","userAgent":"kubectl 😀 \u2028 日本","annotations":{},"z":"€"}',
    ];
    for (const body of [eventList(lines), lines.join('\n')]) {
      const decoded = decode(body);
      assertItemsAre(decoded, lines);
      decoded.items.forEach((item, index) => {
        const span = item.annotations!;
        assert.deepEqual(JSON.parse(spanText(item, span)), JSON.parse(lines[index]!).annotations);
      });
    }
  });

  it('names a problem after characters outside ASCII at its character offset', () => {
    const body = `{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[{"auditID":"ééé","stage":"x"} {}]}`;
    const at = body.indexOf('{}]');
    assertRefused(body, new RegExp(`^body is not valid JSON: expected ',' or '\\]' after an item at character ${at}$`));
    const broken = eventList(['{"auditID":"日本","stage":"x","bad":[1}}']);
    assertRefused(broken, new RegExp(`^items\\[0\\] is not valid JSON: mismatched bracket at character ${broken.indexOf('1}') + 1}$`));
  });

  it('puts an item that spans lines on one line, spans pointing into the new text', () => {
    const lines = fixtureFile(Fixture.Metadata).slice(0, 5);
    const pretty = lines.map((line) => `{\n    ${line.slice(1, -1).replace(/^"kind":"Event",/, '"kind" : "Event",\r\n    ')}\n  }`);
    const body = `{\n  "kind": "EventList",\n  "apiVersion": "audit.k8s.io/v1",\n  "items": [\n  ${pretty.join(',\n  ')}\n  ]\n}\n`;
    assertItemsAre(decode(body), lines.map(compacted));
  });

  it('accepts an empty items array and items: null (what Go writes for an empty list)', () => {
    assert.equal(decode(eventList([])).items.length, 0);
    assert.equal(decode('{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":null}').items.length, 0);
    assert.equal(decode('{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[ \n ]}').items.length, 0);
  });

  it('refuses a list without items, or whose items are not an array', () => {
    assertRefused('{"kind":"EventList","apiVersion":"audit.k8s.io/v1"}', /^EventList has no items array$/);
    for (const items of ['{}', '"[]"', '0', 'true']) {
      assertRefused(`{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":${items}}`, /^EventList items is not an array$/);
    }
  });

  it('refuses items that only start like null', () => {
    assertRefused('{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":nullx}', /not valid JSON/);
    assertRefused('{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":null1}', /not valid JSON/);
  });

  it('refuses a wrong or missing apiVersion', () => {
    const line = files[0]!.lines[0]!;
    assertRefused(eventList([line], 'audit.k8s.io/v2'), /^EventList has apiVersion "audit\.k8s\.io\/v2"; expected audit\.k8s\.io\/v1 or audit\.k8s\.io\/v1beta1$/);
    assertRefused(`{"kind":"EventList","items":[${line}]}`, /^EventList has no apiVersion; expected/);
    assertRefused(`{"kind":"EventList","apiVersion":1,"items":[${line}]}`, /^EventList has no apiVersion/);
  });

  it('names the item that is not an object', () => {
    const [a, b] = files[0]!.lines;
    for (const bad of ['1', '"x"', 'null', '[{}]', 'true']) {
      assertRefused(eventList([a!, b!, bad]), /^items\[2\] is not an object; every item must be an audit Event$/);
    }
  });

  it('names the item whose JSON is broken, without quoting it', () => {
    const [a, b] = files[0]!.lines;
    assertRefused(eventList([a!, `{"auditID":"${SECRET}","stage":"x"`, b!]), /^items\[1\] is not valid JSON: mismatched bracket at character \d+$/);
    const broken = [
      `{"auditID":"${SECRET}","stage":01}`,
      `{"auditID":"${SECRET}\\q"}`,
      `{"auditID":"${SECRET}","auditID":"${SECRET}"}`,
      `{"auditID":"${SECRET}" "stage":"x"}`,
    ];
    for (const bad of broken) assertRefused(eventList([a!, bad, b!]), /^items\[1\] is not valid JSON: [a-zA-Z ',:{}]+ at character \d+$/);
  });

  it('refuses broken separators between items and members', () => {
    const [a, b] = files[0]!.lines;
    assertRefused(`{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[${a} ${b}]}`, /not valid JSON: expected ',' or '\]' after an item/);
    assertRefused(`{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[${a},]}`, /^items\[1\] is not valid JSON: expected a value/);
    assertRefused(`{"kind":"EventList" "apiVersion":"audit.k8s.io/v1","items":[${a}]}`, /^body is not valid JSON: expected ',' or '}' after a value at character 20$/);
    assertRefused(`{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[${a}],}`, /not valid JSON/);
    assertRefused(`{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{"x":01},"items":[${a}]}`, /not valid JSON/);
    assertRefused(`{"kind":"EventList","kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[]}`, /duplicate object key/);
  });

  it('refuses anything after the list', () => {
    assertRefused(`${eventList([files[0]!.lines[0]!])}\n${eventList([])}`, /^body continues after the EventList at character \d+; send one EventList per request$/);
  });
});

describe('decoding agrees with JSON.parse', () => {
  it('accepts a damaged EventList only when it is still valid JSON, and then yields its items', () => {
    const lines = ['{"auditID":"a","stage":"ResponseComplete","n":[1.0,{"k":"\\u00e9"}]}', '{"auditID":"b","stage":"Panic"}'];
    const body = `{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":[${lines.join(',')}]}`;
    fc.assert(
      fc.property(fc.nat(body.length - 1), fc.constantFrom('', ' ', ',', '{', '}', '[', ']', '"', ':', '0', 'x', '\\'), (at, insert) => {
        for (const text of [body.slice(0, at) + insert + body.slice(at + 1), body.slice(0, at) + insert + body.slice(at)]) {
          let parsed: { items?: unknown[] } | undefined;
          try {
            parsed = JSON.parse(text) as { items?: unknown[] };
          } catch {
            parsed = undefined;
          }
          try {
            const decoded = decode(text);
            assert.ok(parsed, 'decode accepted invalid JSON');
            if (decoded.format === BodyFormat.EventList) assert.deepEqual(decoded.items.map((item) => item.value), parsed.items ?? []);
          } catch (error) {
            assert.ok(error instanceof RequestError && error.status === 400, String(error));
          }
        }
      }),
      { numRuns: 400 },
    );
  });
});

describe('decoding generated bodies', () => {
  const event = fc
    .tuple(fc.dictionary(fc.string({ unit: 'binary', maxLength: 5 }), fc.jsonValue({ maxDepth: 3, stringUnit: 'binary' }), { maxKeys: 5 }), fc.string({ minLength: 1, maxLength: 8 }))
    .map(([fields, id]) => ({ ...fields, auditID: id, stage: 'ResponseComplete' }));
  const pad = fc.constantFrom('', ' ', '\n', '\r\n', '\t', '\n  ');

  it('finds every item of an EventList laid out with any whitespace, on one line each', () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 6 }), pad, pad, (events, outer, inner) => {
        const items = events.map((e) => JSON.stringify(e, null, inner.includes('\n') ? 1 : 0));
        const body = `{${outer}"kind":${outer}"EventList",${outer}"apiVersion":"audit.k8s.io/v1",${outer}"items":${outer}[${outer}${items.join(`,${outer}`)}${outer}]${outer}}${outer}`;
        const decoded = decode(body);
        assert.deepEqual(decoded.items.map((item) => item.value), events.map((e) => JSON.parse(JSON.stringify(e))));
        decoded.items.forEach((item, index) => {
          assert.equal(textOf(item), compacted(items[index]!));
          assert.ok(!/[\r\n]/.test(textOf(item)));
          for (const [key, span] of item.members) assert.deepEqual(JSON.parse(spanText(item, span)), (item.value as Record<string, unknown>)[key]);
        });
      }),
      { numRuns: 150 },
    );
  });

  it('numbers JSON lines as an editor does, whatever the blank lines and line endings', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(event, fc.nat(2), fc.constantFrom('\n', '\r\n')), { minLength: 2, maxLength: 6 }), (entries) => {
        let body = '';
        const expected: string[] = [];
        let line = 1;
        for (const [e, blanks, end] of entries) {
          body += end.repeat(blanks);
          line += blanks;
          expected.push(`line ${line}`);
          body += JSON.stringify(e) + end;
          line += 1;
        }
        const decoded = decode(body);
        assert.equal(decoded.format, BodyFormat.JsonLines);
        assert.deepEqual(decoded.items.map((item) => item.label), expected);
        assert.deepEqual(decoded.items.map(textOf), entries.map(([e]) => JSON.stringify(e)));
      }),
      { numRuns: 150 },
    );
  });
});

describe('single Event and JSON lines bodies', () => {
  it('accepts one Event object, with or without kind', () => {
    const line = fixtureFile(Fixture.Metadata)[3]!;
    const decoded = decode(`\n${line}\n`);
    assert.equal(decoded.format, BodyFormat.Event);
    assert.equal(decoded.items[0]!.label, 'the event');
    assertItemsAre(decoded, [line]);
    const withoutKind = '{"auditID":"1","stage":"ResponseComplete","n":1.0}';
    assertItemsAre(decode(withoutKind), [withoutKind]);
  });

  for (const { name, lines } of files) {
    it(`reads ${name} as JSON lines, byte for byte`, () => readsAsJsonLines(lines));
  }

  it('skips blank lines and CRLF endings, counting lines as an editor does', () => {
    const [a, b, c] = files[0]!.lines;
    const decoded = decode(`\r\n${a}\r\n\r\n   \r\n${b}\r\n${c}`);
    assertItemsAre(decoded, [a!, b!, c!]);
    assert.deepEqual(decoded.items.map((item) => item.label), ['line 2', 'line 5', 'line 6']);
  });

  it('names the line that is not an object or not valid JSON', () => {
    const [a, b] = files[0]!.lines;
    assertRefused(`${a}\n${b}\n\n["${SECRET}"]\n`, /^line 4 is not a JSON object; JSON lines bodies hold one audit Event per line$/);
    assertRefused(`${a}\n${SECRET}\n`, /^line 2 is not a JSON object/);
    assertRefused(`${a}\n{"auditID":"${SECRET}",\n`, /^line 2 is not valid JSON: /);
    assertRefused(`${a}\n${b}\n{"auditID":"${SECRET}\u0001"}\n`, /^line 3 is not valid JSON: /);
  });
});

describe('bodies that are not an audit payload', () => {
  it('refuses an empty or blank body', () => {
    assertRefused('', /^body is empty; expected an EventList$/);
    assertRefused(' \r\n\t', /^body is empty/);
  });

  it('refuses a byte order mark and invalid UTF-8', () => {
    const event = new TextEncoder().encode(files[0]!.lines[0]!);
    assertRefused(new Uint8Array([0xef, 0xbb, 0xbf, ...event]), /^body starts with a byte order mark/);
    for (const bad of [[0xff], [0xc3], [0xed, 0xa0, 0x80], [0xc0, 0xaf]]) {
      const body = new Uint8Array([...event.slice(0, -2), ...bad, ...event.slice(-2)]);
      assertRefused(body, /^body is not valid UTF-8; send the audit events as UTF-8 JSON$/);
    }
  });

  it('refuses an array, a string, a number', () => {
    assertRefused(`[${files[0]!.lines[0]}]`, /^body is a JSON array; expected an EventList object/);
    assertRefused(`"${SECRET}"`, /^body is not a JSON object; expected an EventList object/);
    assertRefused('42', /^body is not a JSON object/);
  });

  it('refuses a wrong kind, or no kind and no auditID', () => {
    assertRefused(`{"kind":"Secret","data":{"k":"${SECRET}"}}`, /^body has kind "Secret"; expected kind EventList \(or a single Event\)$/);
    assertRefused(`{"apiVersion":"v1","data":{"k":"${SECRET}"}}`, /^body has no kind; expected kind EventList/);
  });

  it('refuses a body that is not JSON, without quoting it', () => {
    assertRefused(`{"auditID":"${SECRET}"`, /^body is not valid JSON: unexpected end of input at character 29$/);
    assertRefused(`{"auditID":"${SECRET}",`, /^body is not valid JSON: expected an object key at character 30$/);
    assertRefused(`{"auditID" "${SECRET}"}`, /^body is not valid JSON: expected ':' after an object key at character 11$/);
    assertRefused(`{"auditID":"${SECRET}`, /^body is not valid JSON: unterminated string at character 11$/);
  });
});
