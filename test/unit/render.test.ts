import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Annotation } from '../../src/audit/annotations.ts';
import { decodeBody } from '../../src/audit/decode.ts';
import { apiServerTime, eventTime, MIN_RECORD_BYTES, type Rendered, renderRecord } from '../../src/audit/render.ts';
import type { AuditEvent } from '../../src/audit/types.ts';
import { MAX_IDENTIFIER_LENGTH, validateEvent } from '../../src/audit/validate.ts';
import { fixtureFiles } from '../support/records.ts';

const RECEIVED_AT = Date.parse('2026-11-22T20:00:00Z');
const CLUSTER = 'prod-eu-1';
const lines = fixtureFiles().flatMap((file) => file.lines);

/** Decodes one event line as the pipeline does and renders it. */
function render(line: string, options: { cluster?: string; maxRecordBytes?: number; redacted?: string[] } = {}): Rendered {
  const item = [...decodeBody(line).items][0]!;
  const { event, apiVersion } = validateEvent(item);
  return renderRecord({
    item,
    event,
    apiVersion,
    redacted: options.redacted ?? [],
    ...(options.cluster === undefined ? {} : { cluster: options.cluster }),
    maxRecordBytes: options.maxRecordBytes ?? 1 << 20,
    receivedAt: RECEIVED_AT,
  });
}

function assertConsistent({ record }: Rendered): void {
  assert.equal(record.bytes, Buffer.byteLength(record.json, 'utf8'));
  assert.equal(record.timestamp, eventTime(record.event) ?? RECEIVED_AT);
  assert.equal(record.auditID, record.event.auditID);
  assert.equal(record.stage, record.event.stage);
}

describe('records of untouched events', () => {
  it('are every real fixture line byte for byte, with its auditID, stage and time', () => {
    for (const line of lines) {
      const rendered = render(line);
      const event = JSON.parse(line) as AuditEvent;
      assert.equal(rendered.record.json, line);
      assert.equal(rendered.truncated, false);
      assert.equal(rendered.record.cluster, undefined);
      assert.equal(rendered.record.timestamp, Date.parse(event.stageTimestamp ?? event.requestReceivedTimestamp ?? event.timestamp!));
      assertConsistent(rendered);
    }
  });

  it('serialise with JSON.stringify as their fields and their json, not as the memory they hold their bytes in', () => {
    const { record } = render(lines[0]!, { cluster: CLUSTER });
    assert.ok(record.utf8, 'a record that holds its line as bytes');
    const { auditID, stage, timestamp, json, bytes, apiVersion, cluster, key } = record;
    assert.deepEqual(JSON.parse(JSON.stringify(record)), { auditID, stage, timestamp, json, bytes, apiVersion, cluster, key });
  });

  it('keep number spellings, escapes, whitespace and unknown fields', () => {
    const line = '{"auditID":"a","stage":"ResponseComplete", "n":1.0,"e":1E3,"s":"caf\\u00e9","annotations":null,"x":{"y":[ -0.0 ]}}';
    assert.equal(render(line).record.json, line);
  });
});

describe('the cluster annotation', () => {
  it('is spliced into every real fixture line, leaving the rest of the text as received', () => {
    for (const line of lines) {
      const rendered = render(line, { cluster: CLUSTER });
      const { json } = rendered.record;
      const original = JSON.parse(line) as AuditEvent;
      assert.deepEqual(JSON.parse(json), { ...original, annotations: { ...original.annotations, [Annotation.Cluster]: CLUSTER } });
      const member = `"${Annotation.Cluster}":"${CLUSTER}"`;
      const spliced = original.annotations === undefined ? `,"annotations":{${member}}` : Object.keys(original.annotations).length > 0 ? `${member},` : member;
      assert.equal(json.replace(spliced, ''), line);
      assert.equal(rendered.record.cluster, CLUSTER);
      assertConsistent(rendered);
    }
  });

  it('goes into absent, empty, spaced, null and populated annotations', () => {
    const member = `"${Annotation.Cluster}":"${CLUSTER}"`;
    const cases: [string, string][] = [
      ['{"auditID":"a","stage":"s","n":1.0}', `{"auditID":"a","stage":"s","n":1.0,"annotations":{${member}}}`],
      ['{"auditID":"a","annotations":{},"stage":"s","n":1.0}', `{"auditID":"a","annotations":{${member}},"stage":"s","n":1.0}`],
      ['{"auditID":"a","annotations":{ },"stage":"s"}', `{"auditID":"a","annotations":{${member} },"stage":"s"}`],
      ['{"auditID":"a","annotations":null,"stage":"s","n":1.0}', `{"auditID":"a","annotations":{${member}},"stage":"s","n":1.0}`],
      ['{"auditID":"a","annotations":{"k":"caf\\u00e9"},"stage":"s"}', `{"auditID":"a","annotations":{${member},"k":"caf\\u00e9"},"stage":"s"}`],
      ['{"auditID":"a","stage":"s" }', `{"auditID":"a","stage":"s" ,"annotations":{${member}}}`],
    ];
    for (const [line, expected] of cases) {
      const rendered = render(line, { cluster: CLUSTER });
      assert.equal(rendered.record.json, expected);
      assertConsistent(rendered);
    }
  });

  it('overwrites a cluster the sender claimed, and says so; leaves other fields and an equal claim alone', () => {
    const line = `{"auditID":"a","stage":"s","cluster":"other","annotations":{"x":"1","${Annotation.Cluster}":"theirs"}}`;
    const spoofed = render(line, { cluster: CLUSTER });
    assert.equal(spoofed.spoofed, true);
    assert.equal(spoofed.record.json, `{"auditID":"a","stage":"s","cluster":"other","annotations":{"x":"1","${Annotation.Cluster}":"${CLUSTER}"}}`);
    assertConsistent(spoofed);
    const same = `{"auditID":"a","stage":"s","annotations":{"${Annotation.Cluster}":"${CLUSTER}"}}`;
    assert.deepEqual([render(same, { cluster: CLUSTER }).record.json, render(same, { cluster: CLUSTER }).spoofed], [same, false]);
    // Without a cluster of its own the relay has nothing to say: the claim stays.
    assert.deepEqual([render(line).record.json, render(line).spoofed], [line, false]);
  });

  it('is escaped as JSON when the name needs it', () => {
    const rendered = render('{"auditID":"a","stage":"s"}', { cluster: 'a"b\\c' });
    assert.equal((rendered.record.event.annotations ?? {})[Annotation.Cluster], 'a"b\\c');
    assertConsistent(rendered);
  });
});

describe('truncation', () => {
  const big = lines.reduce((a, b) => (Buffer.byteLength(a) >= Buffer.byteLength(b) ? a : b));

  it('first drops requestObject and responseObject, marked as the API server marks it', () => {
    const original = JSON.parse(big) as AuditEvent;
    const { requestObject, responseObject, ...rest } = original;
    assert.ok(requestObject !== undefined || responseObject !== undefined);
    const rendered = render(big, { cluster: CLUSTER, maxRecordBytes: 64 * 1024 });
    assert.equal(rendered.truncated, true);
    const removed = [requestObject !== undefined && 'requestObject', responseObject !== undefined && 'responseObject'].filter(Boolean).join(',');
    assert.deepEqual(rendered.record.event, {
      ...rest,
      annotations: { ...original.annotations, [Annotation.Cluster]: CLUSTER, [Annotation.Truncated]: 'true', [Annotation.TruncatedFields]: removed },
    });
    assert.ok(rendered.record.bytes <= 64 * 1024);
    assertConsistent(rendered);
  });

  it('then keeps a skeleton of who did what to which object and when', () => {
    const original = JSON.parse(big) as AuditEvent;
    const line = JSON.stringify({ ...original, annotations: { ...original.annotations, huge: 'x'.repeat(10_000) } });
    const rendered = render(line, { maxRecordBytes: MIN_RECORD_BYTES });
    const event = rendered.record.event;
    assert.equal(event.annotations![Annotation.Truncated], 'true');
    assert.equal(event.annotations![Annotation.TruncatedFields], 'skeleton');
    for (const field of ['auditID', 'stage', 'verb', 'level', 'requestReceivedTimestamp', 'stageTimestamp'] as const) assert.equal(event[field], original[field]);
    assert.deepEqual(event.objectRef, original.objectRef);
    assert.equal(event.user.username, original.user.username);
    assert.equal(event.responseStatus?.code, original.responseStatus?.code);
    assert.equal(event.requestObject, undefined);
    assert.ok(rendered.record.bytes <= MIN_RECORD_BYTES);
    assertConsistent(rendered);
  });

  it('fits the largest skeleton validation lets through into MIN_RECORD_BYTES', () => {
    const fields = ['level', 'auditID', 'stage', 'verb', 'requestReceivedTimestamp', 'stageTimestamp', 'timestamp'];
    for (const unit of ['z', '\u0001', '\ud800', '😀', 'é', '"']) {
      for (const length of [MAX_IDENTIFIER_LENGTH, Math.floor(MAX_IDENTIFIER_LENGTH / 2), Math.floor(MAX_IDENTIFIER_LENGTH / 6)]) {
        const value = unit.repeat(length);
        const event = Object.fromEntries(fields.map((field) => [field, value]));
        const line = JSON.stringify({ ...event, user: { username: '😀'.repeat(10_000) }, requestObject: 'x'.repeat(MIN_RECORD_BYTES) });
        let rendered: Rendered;
        try {
          rendered = render(line, { maxRecordBytes: MIN_RECORD_BYTES });
        } catch (error) {
          assert.equal((error as { status?: number }).status, 400, `${JSON.stringify(unit)} x ${length}: ${String(error)}`);
          continue;
        }
        assert.ok(rendered.record.bytes <= MIN_RECORD_BYTES);
        assert.equal(rendered.record.auditID, value);
        assertConsistent(rendered);
      }
    }
  });

  it('keeps every record valid JSON within any limit from MIN_RECORD_BYTES up, for any event', () => {
    const text = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.string({ unit: fc.constantFrom('a', 'é', '😀', '\u0001', '"', '\\', '\ud800', '\u2028'), maxLength: 400 }),
    );
    const fitting = (limit: number) =>
      text.map((value) => {
        let out = '';
        for (const char of value) {
          if (Buffer.byteLength(JSON.stringify(out + char)) - 2 > limit) break;
          out += char;
        }
        return out === '' ? 'x' : out;
      });
    // Mostly identifiers validation lets through, some at its cap, and some over it in escaped bytes only.
    const identifier = fc.oneof(
      { weight: 16, arbitrary: fitting(MAX_IDENTIFIER_LENGTH) },
      { weight: 4, arbitrary: fitting(MAX_IDENTIFIER_LENGTH).map((s) => s + 'z'.repeat(MAX_IDENTIFIER_LENGTH - (Buffer.byteLength(JSON.stringify(s)) - 2))) },
      { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom('\u0001', '\ud800', '😀'), minLength: 100, maxLength: MAX_IDENTIFIER_LENGTH }) },
    );
    const largeText = fc.oneof(text, fc.integer({ min: 0, max: 30_000 }).map((n) => 'é'.repeat(n)));
    const large = fc.oneof(largeText, fc.jsonValue({ maxDepth: 3 }));
    const event = fc.record(
      {
        kind: fc.constant('Event'),
        level: identifier,
        auditID: identifier,
        stage: identifier,
        verb: identifier,
        requestURI: largeText,
        user: fc.record({ username: fc.oneof(text, fc.integer({ min: 0, max: 5_000 }).map((n) => '😀'.repeat(n))), groups: fc.array(text, { maxLength: 3 }) }),
        objectRef: fc.record({ resource: text, name: large }),
        responseStatus: fc.record({ code: fc.integer({ min: 100, max: 599 }), message: large }),
        requestObject: large,
        responseObject: large,
        requestReceivedTimestamp: fc.oneof(identifier, fc.date({ noInvalidDate: true }).map((d) => d.toISOString())),
        stageTimestamp: identifier,
        timestamp: identifier,
        annotations: fc.dictionary(text, largeText, { maxKeys: 3 }),
        unknown: fc.jsonValue({ maxDepth: 2 }),
      },
      { requiredKeys: ['auditID', 'stage'] },
    );
    fc.assert(
      fc.property(event, fc.option(text.filter((s) => s.length > 0 && s.length <= 253)), fc.integer({ min: MIN_RECORD_BYTES, max: 80_000 }), (value, cluster, max) => {
        const line = JSON.stringify(value);
        let rendered: Rendered;
        try {
          rendered = render(line, { maxRecordBytes: max, ...(cluster === null ? {} : { cluster }) });
        } catch (error) {
          // Only what validation refuses (identifiers over the cap) may fail, and then with a 400.
          assert.equal((error as { status?: number }).status, 400, String(error));
          return;
        }
        assertConsistent(rendered);
        assert.ok(rendered.record.bytes <= max, `${rendered.record.bytes} > ${max}`);
        assert.equal(rendered.record.auditID, value.auditID);
        assert.equal(rendered.record.stage, value.stage);
        const annotations = rendered.record.event.annotations ?? {};
        if (rendered.truncated) {
          assert.equal(annotations[Annotation.Truncated], 'true');
          assert.ok(annotations[Annotation.TruncatedFields]);
        } else {
          const expected = JSON.parse(line) as AuditEvent;
          if (cluster !== null) expected.annotations = { ...expected.annotations, [Annotation.Cluster]: cluster };
          assert.deepEqual(rendered.record.event, expected);
        }
      }),
      { numRuns: 150 },
    );
  });
});

describe('the record time', () => {
  it('is stageTimestamp, else requestReceivedTimestamp, else timestamp, else the receive time', () => {
    const stage = '2026-01-02T03:04:05.123456Z';
    const received = '2026-01-02T03:04:04.000001Z';
    const legacy = '2017-09-11T17:38:00Z';
    const time = (fields: Record<string, unknown>) => render(JSON.stringify({ auditID: 'a', stage: 's', ...fields })).record.timestamp;
    assert.equal(time({ stageTimestamp: stage, requestReceivedTimestamp: received, timestamp: legacy }), Date.parse(stage));
    assert.equal(time({ requestReceivedTimestamp: received, timestamp: legacy }), Date.parse(received));
    assert.equal(time({ stageTimestamp: null, timestamp: legacy }), Date.parse(legacy));
    assert.equal(time({ stageTimestamp: 'not a time', requestReceivedTimestamp: received }), Date.parse(received));
    assert.equal(time({}), RECEIVED_AT);
    assert.equal(eventTime({ auditID: 'a', stage: 's' } as AuditEvent), undefined);
  });

  it("reads the API server's timestamps without Date.parse, to the same ms, and leaves every other spelling to it", () => {
    const timestamps = lines.flatMap((line) => {
      const event = JSON.parse(line) as AuditEvent;
      return [event.stageTimestamp, event.requestReceivedTimestamp, event.timestamp].filter((time): time is string => typeof time === 'string');
    });
    assert.ok(timestamps.length > 100);
    for (const text of timestamps) assert.equal(apiServerTime(text), Date.parse(text), text);
    // Near misses of the format, each checked against Date.parse: taken (and then equal) or left to it.
    const number = (min: number, max: number, width: number) => fc.integer({ min, max }).map((n) => String(n).padStart(width, '0'));
    const fraction = fc.oneof(fc.constant(''), fc.array(fc.constantFrom(...'0123456789'), { maxLength: 11 }).map((d) => `.${d.join('')}`));
    const nearMiss = fc
      .tuple(number(0, 9999, 4), fc.constantFrom('-', '-', '/'), number(0, 13, 2), fc.constant('-'), number(0, 32, 2), fc.constantFrom('T', 'T', 't', ' '), number(0, 25, 2), fc.constant(':'), number(0, 61, 2), fc.constant(':'), number(0, 61, 2), fraction, fc.constantFrom('Z', 'Z', 'z', '+00:00', ''))
      .map((parts) => parts.join(''));
    let fast = 0;
    fc.assert(
      fc.property(nearMiss, (text) => {
        const time = apiServerTime(text);
        if (time === undefined) return;
        fast++;
        assert.equal(time, Date.parse(text), text);
      }),
      { numRuns: 3000 },
    );
    assert.ok(fast > 100, `only ${fast} of 3000 took the fast way`);
    const taken = ['2026-04-31T23:59:59.999999Z', '2026-02-29T00:00:00Z', '1970-01-01T00:00:00.5Z', '2026-12-02T10:37:30.123456789Z'];
    for (const text of taken) assert.equal(apiServerTime(text), Date.parse(text), text);
    const leftToDateParse = ['2026-01-01T24:00:00Z', '2026-01-01T23:59:60Z', '0099-01-01T00:00:00Z', '2026-01-01T00:00:00.Z', '2026-01-01T00:00:00+00:00', '2026-13-01T00:00:00Z', '2026-01-01T00:00:00.1234567890Z'];
    for (const text of leftToDateParse) assert.equal(apiServerTime(text), undefined, text);
  });
});
