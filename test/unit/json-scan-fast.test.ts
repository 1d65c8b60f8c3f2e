import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeBody } from '../../src/audit/decode.ts';
import { ArrayElements, countKeys, JsonScanError, scanObject, type Span, valueEnd } from '../../src/audit/json-scan.ts';
import { RequestError } from '../../src/errors.ts';
import { fixtureFiles } from '../support/records.ts';

const lines = fixtureFiles().flatMap((file) => file.lines);
const eventList = (items: readonly string[]): string => `{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[${items.join(',')}]}`;

interface Found {
  readonly end: number;
  readonly annotations: Span | undefined;
}

/** What the thorough scan plus JSON.parse make of an object: its end and annotations span, or the scan's error. */
const utf8 = (text: string): Buffer => Buffer.from(text, 'utf8');

function thorough(text: string): Found | JsonScanError {
  const members = new Map<string, Span>();
  try {
    const end = valueEnd(utf8(text), 0, members);
    JSON.parse(utf8(text).subarray(0, end).toString('utf8'));
    return { end, annotations: members.get('annotations') };
  } catch (error) {
    if (error instanceof JsonScanError) return error;
    return new JsonScanError('invalid JSON', 0);
  }
}

/** The fast scan's verdict: accepted only when the scan, the parse and the key count all pass. */
function fast(text: string): Found | undefined {
  try {
    const scan = scanObject(utf8(text), 0);
    if (countKeys(JSON.parse(utf8(text).subarray(0, scan.end).toString('utf8'))) !== scan.keys) return undefined;
    return { end: scan.end, annotations: scan.annotations };
  } catch {
    return undefined;
  }
}

describe('scanObject', () => {
  it('finds the same end and annotations span as valueEnd in every fixture event, and as many keys as the parsed event has', () => {
    for (const line of lines) {
      const scan = scanObject(utf8(line), 0);
      const members = new Map<string, Span>();
      assert.equal(scan.end, valueEnd(utf8(line), 0, members));
      assert.deepEqual(scan.annotations, members.get('annotations'));
      assert.equal(scan.keys, countKeys(JSON.parse(line)));
      assert.equal(scan.multiline, false);
    }
  });

  it('accepts exactly what valueEnd and JSON.parse accept, duplicate keys at any depth included', () => {
    const key = fc.oneof(fc.string({ maxLength: 3 }), fc.constant('annotations'));
    const object = fc.dictionary(key, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 });
    const texts = fc.tuple(object, fc.nat(), fc.constantFrom('duplicate', 'delete', 'insert'), fc.constantFrom(...'{}[]":,\\ 1')).map(([value, at, how, char]) => {
      const text = JSON.stringify(value);
      const i = 1 + (at % Math.max(1, text.length - 1));
      if (how === 'delete') return text.slice(0, i) + text.slice(i + 1);
      if (how === 'insert') return text.slice(0, i) + char + text.slice(i);
      // Repeat the first key of some object, as `"a":1,"a":2`.
      const key = /\{("(?:[^"\\]|\\.)*"):/.exec(text.slice(i - 1));
      return key ? text.replace(key[0], `${key[0]}0,${key[1]}:`) : text;
    });
    fc.assert(
      fc.property(texts, (text) => {
        const expected = thorough(text);
        const actual = fast(text);
        if (expected instanceof JsonScanError) assert.equal(actual, undefined);
        else assert.deepEqual(actual, expected);
      }),
      { numRuns: 2000 },
    );
  });

  it('counts a key spelt with an escape as the duplicate it is', () => {
    const text = '{"a":{"b":1,"\\u0062":2}}';
    const scan = scanObject(utf8(text), 0);
    assert.notEqual(countKeys(JSON.parse(text)), scan.keys);
  });

  it('finds annotations however the key is escaped, and only among the object\'s own members', () => {
    const text = '{"a":{"annotations":{}},"annot\\u0061tions":{"k":"v"}}';
    const span = scanObject(utf8(text), 0).annotations!;
    assert.deepEqual(JSON.parse(utf8(text).subarray(span.start, span.end).toString('utf8')), { k: 'v' });
  });

  it('reports line breaks between tokens', () => {
    assert.equal(scanObject(utf8('{"a":\n1}'), 0).multiline, true);
  });

  it('leaves brackets of the wrong kind to the parse, which refuses every slice the scan then ends', () => {
    for (const text of ['{"a":[1}]', '{"a":{"b":1]}', '{"a":[}', '{]']) {
      assert.ok(thorough(text) instanceof JsonScanError, text);
      assert.equal(fast(text), undefined, text);
    }
  });
});

describe('ArrayElements', () => {
  it('gives back every span and scan pushed, as 32-bit offsets and, for a body of 4 GiB or more, as wider ones', () => {
    for (const base of [0, 2 ** 32 + 7]) {
      const elements = new ArrayElements(true, base + 1_000_000);
      const pushed = Array.from({ length: 200 }, (_, i) => ({
        start: base + i * 100,
        scan: { end: base + i * 100 + 90, keys: i, multiline: i % 3 === 0, ...(i % 2 === 0 ? { annotations: { start: i % 4, end: 80 } } : {}) },
      }));
      for (const { start, scan } of pushed) elements.push(start, scan.end, scan);
      assert.equal(elements.length, pushed.length);
      pushed.forEach(({ start, scan }, i) => {
        assert.deepEqual(elements.span(i), { start, end: scan.end });
        assert.deepEqual(elements.scan(i), scan);
      });
    }
  });
});

describe('decodeBody after a fast scan fails', () => {
  const refusal = (text: string): string => {
    try {
      [...decodeBody(text).items];
    } catch (error) {
      assert.ok(error instanceof RequestError);
      return error.message;
    }
    assert.fail('the body was accepted');
  };

  it('names the first problem in the body, as the thorough scan finds it', () => {
    const duplicate = lines[0]!.replace('{', '{"stage":"x",');
    const broken = lines[1]!.slice(0, -1);
    assert.match(refusal(eventList([lines[2]!, duplicate, broken])), /^items\[1\] is not valid JSON: duplicate object key at character \d+$/);
    const nested = lines[0]!.replace('"user":{', '"user":{"uid":"1","uid":"2",');
    assert.match(refusal(eventList([nested])), /^items\[0\] is not valid JSON: duplicate object key at character \d+$/);
  });

  it('still refuses a duplicate key when a library has added an enumerable property to Object.prototype', () => {
    // In an item that is one object, one duplicate (a key fewer parsed) and one inherited key counted cancel out.
    const duplicate = '{"auditID":"a","stage":"x","stage":"y"}';
    Object.defineProperty(Object.prototype, 'polluted', { value: 1, enumerable: true, configurable: true });
    try {
      assert.match(refusal(eventList([duplicate])), /^items\[0\] is not valid JSON: duplicate object key at character \d+$/);
      assert.deepEqual([...decodeBody(eventList([lines[0]!])).items].map((item) => item.utf8.toString('utf8')), [lines[0]]);
    } finally {
      delete (Object.prototype as { polluted?: number }).polluted;
    }
  });

  it('keeps items that span lines decodable, compacted onto one line', () => {
    const spread = lines[0]!.replace('{', '{\n  ').replace(/,"/g, ',\n  "');
    const items = [...decodeBody(eventList([spread, lines[1]!])).items];
    assert.equal(items[0]!.utf8.toString('utf8'), lines[0]);
    assert.equal(items[1]!.utf8.toString('utf8'), lines[1]);
    assert.deepEqual(items[0]!.value, JSON.parse(lines[0]!));
  });

  it('gives every item its annotations span and, when asked, all its members', () => {
    const items = [...decodeBody(eventList(lines)).items];
    items.forEach((item, index) => {
      const members = new Map<string, Span>();
      valueEnd(utf8(lines[index]!), 0, members);
      assert.deepEqual(item.members, members);
      assert.deepEqual(item.annotations, members.get('annotations'));
    });
  });
});
