import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeBody } from '../../src/audit/decode.ts';
import { AuditApiVersion } from '../../src/audit/types.ts';
import { MAX_IDENTIFIER_LENGTH, validateEvent } from '../../src/audit/validate.ts';
import { RequestError } from '../../src/errors.ts';
import { realCorpusFiles, realCorpusSkip } from '../support/real-corpus.ts';
import { fixtureFiles } from '../support/records.ts';

const SECRET = 'c2VjcmV0LXZhbHVl';
const base = { auditID: 'a1', stage: 'ResponseComplete', level: 'Metadata', verb: 'get', requestURI: '/api' };
const validate = (event: unknown, list: string = AuditApiVersion.V1) =>
  validateEvent([...decodeBody(`{"kind":"EventList","apiVersion":"${list}","items":[{"auditID":"x","stage":"y"},${JSON.stringify(event)}]}`).items][1]!);

function assertInvalid(event: unknown, expected: RegExp): void {
  assert.throws(
    () => validate(event),
    (error: unknown) => {
      assert.ok(error instanceof RequestError && error.status === 400, String(error));
      assert.match(error.message, expected);
      assert.ok(error.message.startsWith('items[1]'), error.message);
      assert.ok(!error.message.includes(SECRET));
      return true;
    },
  );
}

/** Every event of the files validates, labelled with the API version the item or its list carries. */
function acceptsEvery(files: readonly { name: string; lines: string[] }[]): void {
  for (const { name, lines } of files) {
    for (const list of [AuditApiVersion.V1, AuditApiVersion.V1beta1]) {
      const items = [...decodeBody(`{"kind":"EventList","apiVersion":"${list}","items":[${lines.join(',')}]}`).items];
      items.forEach((item, index) => {
        const { event, apiVersion } = validateEvent(item);
        const own = (JSON.parse(lines[index]!) as { apiVersion?: string }).apiVersion;
        assert.equal(apiVersion, own ?? list, `${name} ${item.label}`);
        assert.equal(event, item.value);
      });
    }
  }
}

describe('validateEvent on the real corpus', { skip: realCorpusSkip() }, () => {
  it('accepts every real corpus event, labelling the API version the item or its list carries', () => acceptsEvery(realCorpusFiles()));
});

describe('validateEvent', () => {
  it('accepts every fixture event, labelling the API version the item or its list carries', () => acceptsEvery(fixtureFiles()));

  it('requires auditID and stage as non-empty strings', () => {
    assertInvalid({ ...base, auditID: undefined }, /^items\[1\]: auditID is missing or not a non-empty string$/);
    assertInvalid({ ...base, auditID: '' }, /auditID is missing/);
    assertInvalid({ ...base, stage: 7 }, /^items\[1\]: stage is missing or not a non-empty string$/);
    assert.doesNotThrow(() => validate({ auditID: 'a', stage: 'b' }));
  });

  it('refuses a wrong kind or apiVersion on the item', () => {
    assertInvalid({ ...base, kind: 'Secret' }, /^items\[1\]: kind must be Event$/);
    assertInvalid({ ...base, apiVersion: 'audit.k8s.io/v2' }, /apiVersion must be audit\.k8s\.io\/v1 or audit\.k8s\.io\/v1beta1$/);
    assertInvalid({ ...base, apiVersion: 1 }, /apiVersion must be/);
  });

  it('refuses fields of the wrong type, naming the field', () => {
    assertInvalid({ ...base, verb: 1 }, /^items\[1\]: verb is not a string$/);
    assertInvalid({ ...base, level: [SECRET] }, /^items\[1\]: level is not a string$/);
    assertInvalid({ ...base, requestURI: { p: SECRET } }, /^items\[1\]: requestURI is not a string$/);
    assertInvalid({ ...base, stageTimestamp: 1 }, /stageTimestamp is not a string/);
    assertInvalid({ ...base, user: SECRET }, /^items\[1\]: user is not an object$/);
    assertInvalid({ ...base, objectRef: [SECRET] }, /objectRef is not an object/);
    assertInvalid({ ...base, annotations: [SECRET] }, /annotations is not an object/);
    assertInvalid({ ...base, annotations: { a: 1 } }, /annotations must map strings to strings/);
    assertInvalid({ ...base, sourceIPs: SECRET }, /sourceIPs is not an array/);
    assertInvalid({ ...base, user: { username: 5 } }, /^items\[1\]: user\.username is not a string$/);
    assertInvalid({ ...base, user: { groups: SECRET } }, /^items\[1\]: user\.groups is not a list of strings$/);
    assertInvalid({ ...base, impersonatedUser: { groups: [1] } }, /impersonatedUser\.groups is not a list of strings/);
  });

  it('lets null stand for an absent optional field and passes unknown fields through', () => {
    const event = { ...base, user: null, annotations: null, stageTimestamp: null, sourceIPs: null, novel: { x: [1] } };
    assert.deepEqual(validate(event).event, event);
  });

  it('caps identifiers and timestamps at MAX_IDENTIFIER_LENGTH bytes as JSON writes them', () => {
    for (const field of ['auditID', 'stage', 'level', 'verb', 'stageTimestamp', 'requestReceivedTimestamp', 'timestamp']) {
      assert.doesNotThrow(() => validate({ ...base, [field]: 'x'.repeat(MAX_IDENTIFIER_LENGTH) }));
      assertInvalid({ ...base, [field]: 'x'.repeat(MAX_IDENTIFIER_LENGTH + 1) }, new RegExp(`^items\\[1\\]: ${field} is longer than ${MAX_IDENTIFIER_LENGTH} bytes$`));
      // 43 control characters are 43 UTF-16 units but 258 bytes once escaped; 86 two-byte letters are 172 units.
      assertInvalid({ ...base, [field]: '\u0001'.repeat(43) }, /is longer than/);
      assertInvalid({ ...base, [field]: 'é'.repeat(129) }, /is longer than/);
    }
  });
});
