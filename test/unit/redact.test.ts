import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Annotation } from '../../src/audit/annotations.ts';
import { decodeBody } from '../../src/audit/decode.ts';
import { parseRedactionPath, REDACTED, redactEvent, type RedactionOptions } from '../../src/audit/redact.ts';
import { MIN_RECORD_BYTES, renderRecord } from '../../src/audit/render.ts';
import type { AuditEvent } from '../../src/audit/types.ts';
import { validateEvent } from '../../src/audit/validate.ts';
import { carriesSecretValues, Fixture, fixtureFile, fixtureLine, fixtureRecords } from '../support/records.ts';
import { REAL_CORPUS_DIR, realCorpusSkip } from '../support/real-corpus.ts';

const SECRETS: RedactionOptions = { secrets: true, paths: [] };
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
/** Metadata-level fixture events, to which each test adds the bodies a higher level would record. */
const createSecret = fixtureLine(Fixture.Metadata, '0a1b2c3d');
const kubeSystemSecret = fixtureLine(Fixture.Metadata, 'f2a3b4c5');
const serviceAccountSecret = fixtureLine(Fixture.Metadata, 'e1f2a3b4');
const tokenReview = fixtureLine(Fixture.Metadata, '15f8a9b0');
const configMapRead = fixtureLine(Fixture.Metadata, '04e7f8a9');
const createPod = fixtureFile(Fixture.Request)[0]!;
const anyEvent = fixtureFile(Fixture.Metadata)[0]!;

const withBodies = (line: string, bodies: Record<string, unknown>): AuditEvent => ({ ...(JSON.parse(line) as AuditEvent), level: 'RequestResponse', ...bodies });
const secret = (data: Record<string, string>, extra: Record<string, unknown> = {}) => ({
  kind: 'Secret',
  apiVersion: 'v1',
  metadata: { name: 'example-secret', namespace: 'default', annotations: { [LAST_APPLIED]: JSON.stringify({ data }), keep: 'me' } },
  data,
  type: 'Opaque',
  ...extra,
});

describe('redactEvent on the real corpus', { skip: realCorpusSkip() }, () => {
  it('leaves every real corpus event untouched: none carries secret values', () => {
    for (const { event } of fixtureRecords(REAL_CORPUS_DIR)) {
      const before = structuredClone(event);
      assert.deepEqual(redactEvent(event, SECRETS), []);
      assert.deepEqual(event, before);
    }
  });
});

describe('redactEvent with the built-in rules', () => {
  it('redacts the fixture events that carry Secret data or a reviewed token, and leaves every other one untouched', () => {
    let carrying = 0;
    for (const { event } of fixtureRecords()) {
      const before = structuredClone(event);
      const paths = redactEvent(event, SECRETS);
      if (!carriesSecretValues(before)) {
        assert.deepEqual(paths, [], event.auditID);
        assert.deepEqual(event, before);
        continue;
      }
      carrying += 1;
      assert.ok(paths.length > 0, `${event.auditID} kept its secret values`);
    }
    assert.ok(carrying >= 5, `the fixtures have ${carrying} events carrying secret values`);
  });

  it('replaces Secret data, stringData and last-applied in requestObject and responseObject, keeping keys (create_secret)', () => {
    const event = withBodies(createSecret, {
      requestObject: secret({ username: 'YWRtaW4=', password: 'czNjcjN0' }, { stringData: { token: 'plain' } }),
      responseObject: secret({ username: 'YWRtaW4=', password: 'czNjcjN0' }),
    });
    const paths = redactEvent(event, SECRETS);
    assert.deepEqual(paths, [
      'requestObject.data',
      'requestObject.stringData',
      `requestObject.metadata.annotations.${LAST_APPLIED}`,
      'responseObject.data',
      `responseObject.metadata.annotations.${LAST_APPLIED}`,
    ]);
    const request = event.requestObject as ReturnType<typeof secret> & { stringData: Record<string, string> };
    assert.deepEqual(request.data, { username: REDACTED, password: REDACTED });
    assert.deepEqual(request.stringData, { token: REDACTED });
    assert.deepEqual(request.metadata.annotations, { [LAST_APPLIED]: REDACTED, keep: 'me' });
    assert.equal(request.type, 'Opaque');
    assert.equal(request.metadata.name, 'example-secret');
    assert.ok(!JSON.stringify(event).includes('czNjcjN0') && !JSON.stringify(event).includes('plain'));
  });

  it('recognises patch bodies without kind by objectRef (a kube-system Secret)', () => {
    const event = withBodies(kubeSystemSecret, { requestObject: { data: { 'token-secret': 'c2VjcmV0' }, metadata: { labels: { a: 'b' } } } });
    assert.deepEqual(redactEvent(event, SECRETS), ['requestObject.data']);
    assert.deepEqual(event.requestObject, { data: { 'token-secret': REDACTED }, metadata: { labels: { a: 'b' } } });
  });

  it('redacts a service account token Secret in the response (a service account Secret)', () => {
    const event = withBodies(serviceAccountSecret, {
      responseObject: secret({ 'ca.crt': 'LS0t', namespace: 'dGVzdDI=', token: 'ZXlKaGJH' }, { type: 'kubernetes.io/service-account-token' }),
    });
    assert.deepEqual(redactEvent(event, SECRETS), ['responseObject.data', `responseObject.metadata.annotations.${LAST_APPLIED}`]);
    assert.ok(!JSON.stringify(event).includes('ZXlKaGJH'));
  });

  it('redacts JSON patch operations on a Secret', () => {
    const event = withBodies(createSecret, {
      verb: 'patch',
      requestObject: [{ op: 'replace', path: '/data/password', value: 'bmV3' }, { op: 'remove', path: '/data/old' }],
    });
    assert.deepEqual(redactEvent(event, SECRETS), ['requestObject.0.value']);
    assert.deepEqual(event.requestObject, [{ op: 'replace', path: '/data/password', value: REDACTED }, { op: 'remove', path: '/data/old' }]);
  });

  it('redacts every Secret of a SecretList, whose items carry no kind, and Secrets inside a List', () => {
    const event = withBodies(createSecret, {
      verb: 'list',
      responseObject: { kind: 'SecretList', apiVersion: 'v1', metadata: {}, items: [{ metadata: { name: 'a' }, data: { k: 'djE=' } }, { metadata: { name: 'b' }, data: { k: 'djI=' } }] },
    });
    assert.deepEqual(redactEvent(event, SECRETS), ['responseObject.items.0.data', 'responseObject.items.1.data']);
    const mixed = withBodies(createSecret, {
      responseObject: { kind: 'List', items: [{ kind: 'ConfigMap', data: { k: 'visible' } }, { kind: 'Secret', data: { k: 'djM=' } }] },
    });
    assert.deepEqual(redactEvent(mixed, SECRETS), ['responseObject.items.1.data']);
    assert.equal((mixed.responseObject as { items: { data: { k: string } }[] }).items[0]!.data.k, 'visible');
  });

  it('redacts last-applied in the Table and metadata lists kubectl get asks for on secrets', () => {
    const meta = (name: string) => ({ name, annotations: { [LAST_APPLIED]: '{"data":{"k":"djE="}}', other: 'x' } });
    const event = withBodies(createSecret, {
      verb: 'list',
      responseObject: {
        kind: 'Table',
        apiVersion: 'meta.k8s.io/v1',
        columnDefinitions: [{ name: 'Name' }],
        rows: [
          { cells: ['a'], object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: meta('a') } },
          { cells: ['b'], object: { kind: 'Secret', metadata: meta('b'), data: { k: 'djI=' } } },
        ],
      },
    });
    assert.deepEqual(redactEvent(event, SECRETS), [
      `responseObject.rows.0.object.metadata.annotations.${LAST_APPLIED}`,
      'responseObject.rows.1.object.data',
      `responseObject.rows.1.object.metadata.annotations.${LAST_APPLIED}`,
    ]);
    assert.ok(!JSON.stringify(event).includes('djE=') && !JSON.stringify(event).includes('djI='));
    const list = withBodies(createSecret, { verb: 'list', responseObject: { kind: 'PartialObjectMetadataList', items: [{ metadata: meta('c') }] } });
    assert.deepEqual(redactEvent(list, SECRETS), [`responseObject.items.0.metadata.annotations.${LAST_APPLIED}`]);
    // The same metadata of a ConfigMap is not a Secret's.
    const configMaps = withBodies(configMapRead, { verb: 'list', responseObject: { kind: 'PartialObjectMetadataList', items: [{ metadata: meta('d') }] } });
    assert.deepEqual(redactEvent(configMaps, SECRETS), []);
  });

  it('redacts TokenReview spec.token, by kind or by objectRef', () => {
    for (const kind of [{ kind: 'TokenReview', apiVersion: 'authentication.k8s.io/v1' }, {}]) {
      const event = withBodies(tokenReview, {
        requestObject: { ...kind, spec: { token: 'eyJhbGciOi', audiences: ['api'] } },
        responseObject: { kind: 'TokenReview', spec: { token: 'eyJhbGciOi' }, status: { authenticated: true, user: { username: 'system:node:x' } } },
      });
      assert.deepEqual(redactEvent(event, SECRETS), ['requestObject.spec.token', 'responseObject.spec.token']);
      assert.ok(!JSON.stringify(event).includes('eyJhbGciOi'));
      assert.equal((event.responseObject as { status: { user: { username: string } } }).status.user.username, 'system:node:x');
    }
  });

  it('redacts TokenRequest status.token, by kind or by the serviceaccounts/token objectRef', () => {
    const base = JSON.parse(createSecret) as AuditEvent;
    const objectRef = { resource: 'serviceaccounts', subresource: 'token', namespace: 'default', name: 'default', apiVersion: 'v1' };
    for (const kind of [{ kind: 'TokenRequest', apiVersion: 'authentication.k8s.io/v1' }, {}]) {
      const event: AuditEvent = { ...base, objectRef, requestObject: { ...kind, spec: { audiences: ['x'] } }, responseObject: { ...kind, status: { token: 'eyJ0b2tlbg', expirationTimestamp: 'z' } } };
      assert.deepEqual(redactEvent(event, SECRETS), ['responseObject.status.token']);
      assert.deepEqual((event.responseObject as { status: unknown }).status, { token: REDACTED, expirationTimestamp: 'z' });
    }
  });

  it('leaves other kinds alone, last-applied annotations and data fields included', () => {
    const configMap = { kind: 'ConfigMap', metadata: { annotations: { [LAST_APPLIED]: '{}' } }, data: { k: 'v' } };
    const event = withBodies(configMapRead, { requestObject: structuredClone(configMap), responseObject: structuredClone(configMap) });
    assert.deepEqual(redactEvent(event, SECRETS), []);
    assert.deepEqual(event.requestObject, configMap);
    // A resource named secrets in another API group is not a core Secret.
    const crd = withBodies(createSecret, { objectRef: { resource: 'secrets', apiGroup: 'example.com' }, requestObject: { data: { k: 'v' } } });
    assert.deepEqual(redactEvent(crd, SECRETS), []);
  });

  it('does nothing with secrets: false', () => {
    const event = withBodies(createSecret, { requestObject: secret({ k: 'djE=' }) });
    const before = structuredClone(event);
    assert.deepEqual(redactEvent(event, { secrets: false, paths: [] }), []);
    assert.deepEqual(event, before);
  });
});

describe('extra redaction paths', () => {
  const pod = {
    kind: 'Pod',
    metadata: { annotations: { 'example.com/key.with.dots': 'hidden', other: 'shown' } },
    spec: { containers: [{ env: [{ name: 'A', value: 'one' }, { name: 'B' }] }, { env: [{ name: 'C', value: 'three' }] }] },
  };

  it('follow keys, * for any key or index, and ["a.b"] for keys with dots', () => {
    const event = withBodies(createPod, { requestObject: structuredClone(pod), responseObject: structuredClone(pod) });
    const paths = ['requestObject.spec.containers.*.env.*.value', 'requestObject.metadata.annotations["example.com/key.with.dots"]', 'responseObject.spec', 'user.extra.*'];
    const redacted = redactEvent(event, { secrets: true, paths: paths.map(parseRedactionPath) });
    assert.deepEqual(redacted, [
      'requestObject.spec.containers.0.env.0.value',
      'requestObject.spec.containers.1.env.0.value',
      'requestObject.metadata.annotations.example.com/key.with.dots',
      'responseObject.spec',
    ]);
    assert.equal((event.responseObject as { spec: unknown }).spec, REDACTED);
    const request = event.requestObject as typeof pod;
    assert.deepEqual(request.spec.containers[0]!.env, [{ name: 'A', value: REDACTED }, { name: 'B' }]);
    assert.deepEqual(request.metadata.annotations, { 'example.com/key.with.dots': REDACTED, other: 'shown' });
  });

  it('treat array keys as indices only', () => {
    const event = JSON.parse(anyEvent) as AuditEvent;
    const groups = [...event.user.groups!];
    const paths = ['user.groups.length', 'user.groups.01', 'user.groups.99', 'sourceIPs.-1'].map(parseRedactionPath);
    assert.deepEqual(redactEvent(event, { secrets: true, paths }), []);
    assert.deepEqual(event.user.groups, groups);
  });

  it('can replace whole top-level fields', () => {
    const event = JSON.parse(anyEvent) as AuditEvent;
    assert.deepEqual(redactEvent(event, { secrets: true, paths: [parseRedactionPath('sourceIPs'), parseRedactionPath('user.groups.0')] }), ['sourceIPs', 'user.groups.0']);
    assert.equal(event.sourceIPs, REDACTED);
    assert.equal(event.user.groups![0], REDACTED);
  });

  it('parse the documented syntax and refuse malformed paths', () => {
    assert.deepEqual(parseRedactionPath('requestObject.spec.password'), ['requestObject', 'spec', 'password']);
    assert.deepEqual(parseRedactionPath('a.*.b'), ['a', '*', 'b']);
    assert.deepEqual(parseRedactionPath('a["b.c"].d'), ['a', 'b.c', 'd']);
    assert.deepEqual(parseRedactionPath('a.["b.c"]'), ['a', 'b.c']);
    assert.deepEqual(parseRedactionPath('["x\\"y"]'), ['x"y']);
    for (const bad of ['', 'a.', 'a..b', '.a', 'a[0]', 'a["b"', 'a[b]']) assert.throws(() => parseRedactionPath(bad), Error, bad);
  });
});

describe('the redaction annotation', () => {
  it('lists what was removed in the rendered record, and nothing secret remains', () => {
    const line = JSON.stringify(withBodies(createSecret, { requestObject: secret({ password: 'czNjcjN0' }) }));
    const item = [...decodeBody(line).items][0]!;
    const { event, apiVersion } = validateEvent(item);
    const redacted = redactEvent(event, SECRETS);
    const { record } = renderRecord({ item, event, apiVersion, redacted, maxRecordBytes: 1 << 20, receivedAt: 0 });
    const output = JSON.parse(record.json) as AuditEvent;
    assert.equal(output.annotations![Annotation.Redacted], `requestObject.data,requestObject.metadata.annotations.${LAST_APPLIED}`);
    assert.equal(output.annotations!['authorization.k8s.io/decision'], 'allow');
    assert.ok(!record.json.includes('czNjcjN0'));
    assert.deepEqual(output, record.event);
  });
});

describe('redaction, as a property', () => {
  /**
   * A secret value: a unique core no escaping changes (so its absence proves the value is gone in any encoding,
   * last-applied's JSON-in-JSON included) around text JSON escapes or encodes as several bytes.
   */
  const secretValue = fc
    .tuple(fc.uuid(), fc.string({ unit: fc.constantFrom('a', '"', '\\', '\u0001', 'é', '😀', '\u2028', '/'), maxLength: 6 }))
    .map(([core, tail]) => ({ core: `kar${core.replaceAll('-', '')}`, value: `${tail}kar${core.replaceAll('-', '')}${tail}` }));
  const secretMap = fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }), secretValue, { minKeys: 1, maxKeys: 3 });
  type Secrets = Record<string, { core: string; value: string }>;
  const values = (secrets: Secrets): Record<string, string> => Object.fromEntries(Object.entries(secrets).map(([key, { value }]) => [key, value]));
  const cores = (secrets: Secrets): string[] => Object.values(secrets).map(({ core }) => core);
  const lastApplied = (data: Record<string, string>) => ({ [LAST_APPLIED]: JSON.stringify({ kind: 'Secret', data }), keep: 'me' });
  const core = { resource: 'secrets', apiGroup: '', namespace: 'default', name: 'db' };

  /** Every shape redact.ts knows, each with the objectRef that goes with it and the cores it must remove. */
  interface Shape {
    readonly objectRef: Record<string, string>;
    readonly bodies: Record<string, unknown>;
    readonly cores: readonly string[];
  }
  const field = fc.constantFrom('requestObject', 'responseObject');
  const shapes: fc.Arbitrary<Shape> = fc.oneof(
    fc.tuple(field, secretMap, secretMap).map(([where, data, stringData]) => ({
      objectRef: core,
      bodies: { [where]: { kind: 'Secret', apiVersion: 'v1', metadata: { name: 'db', annotations: lastApplied(values(data)) }, data: values(data), stringData: values(stringData) } },
      cores: [...cores(data), ...cores(stringData)],
    })),
    secretMap.map((data) => ({
      objectRef: core,
      bodies: { requestObject: { metadata: { annotations: lastApplied(values(data)) }, data: values(data) } },
      cores: cores(data),
    })),
    secretMap.map((data) => ({
      objectRef: core,
      bodies: { requestObject: Object.entries(values(data)).map(([key, value]) => ({ op: 'replace', path: `/data/${key}`, value })) },
      cores: cores(data),
    })),
    fc.tuple(secretMap, secretMap).map(([first, second]) => ({
      objectRef: { resource: 'secrets', namespace: 'default' },
      bodies: {
        responseObject: {
          kind: 'SecretList',
          apiVersion: 'v1',
          items: [first, second].map((data, index) => ({ metadata: { name: `s${index}`, annotations: lastApplied(values(data)) }, data: values(data) })),
        },
      },
      cores: [...cores(first), ...cores(second)],
    })),
    secretMap.map((data) => ({
      objectRef: { resource: 'configmaps', namespace: 'default' },
      bodies: { responseObject: { kind: 'List', apiVersion: 'v1', items: [{ kind: 'Secret', apiVersion: 'v1', metadata: { name: 'a' }, data: values(data) }] } },
      cores: cores(data),
    })),
    secretMap.map((data) => ({
      objectRef: { resource: 'secrets', namespace: 'default' },
      bodies: {
        responseObject: {
          kind: 'Table',
          apiVersion: 'meta.k8s.io/v1',
          rows: [{ cells: ['db'], object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: { name: 'db', annotations: lastApplied(values(data)) } } }],
        },
      },
      cores: cores(data),
    })),
    fc.tuple(secretValue, fc.boolean()).map(([token, byKind]) => ({
      objectRef: { resource: 'tokenreviews', apiGroup: 'authentication.k8s.io' },
      bodies: { requestObject: { ...(byKind ? { kind: 'TokenReview', apiVersion: 'authentication.k8s.io/v1' } : {}), spec: { token: token.value } } },
      cores: [token.core],
    })),
    fc.tuple(secretValue, fc.boolean()).map(([token, byKind]) => ({
      objectRef: { resource: 'serviceaccounts', subresource: 'token', namespace: 'default', name: 'builder' },
      bodies: { responseObject: { ...(byKind ? { kind: 'TokenRequest', apiVersion: 'authentication.k8s.io/v1' } : {}), status: { token: token.value } } },
      cores: [token.core],
    })),
  );

  it('leaves no redacted value in any record, which stays valid JSON within the limit and keeps unknown fields', () => {
    const unknown = fc.jsonValue({ maxDepth: 2 });
    fc.assert(
      fc.property(
        shapes,
        fc.option(secretValue, { nil: undefined }),
        unknown,
        fc.option(fc.string({ minLength: 1, maxLength: 40 }), { nil: undefined }),
        fc.integer({ min: MIN_RECORD_BYTES, max: 80_000 }),
        (shape, extra, unknownValue, cluster, maxRecordBytes) => {
          const paths = extra ? [parseRedactionPath('x-vendor.*.password')] : [];
          const input = {
            kind: 'Event',
            apiVersion: 'audit.k8s.io/v1',
            level: 'RequestResponse',
            auditID: '3b2f7a4e-8a0f-4b8e-9d7c-1f2e3d4c5b6a',
            stage: 'ResponseComplete',
            verb: 'update',
            user: { username: 'alice' },
            objectRef: shape.objectRef,
            ...shape.bodies,
            ...(extra ? { 'x-vendor': { a: { password: extra.value } } } : {}),
            'x-unknown': unknownValue,
            stageTimestamp: '2026-11-23T00:00:00.000000Z',
          };
          const item = [...decodeBody(JSON.stringify(input)).items][0]!;
          const { event, apiVersion } = validateEvent(item);
          const redacted = redactEvent(event, { secrets: true, paths });
          const { record, truncated } = renderRecord({ item, event, apiVersion, redacted, cluster, maxRecordBytes, receivedAt: 0 });

          const output = JSON.parse(record.json) as AuditEvent & Record<string, unknown>;
          assert.equal(record.bytes, Buffer.byteLength(record.json, 'utf8'));
          assert.ok(record.bytes <= maxRecordBytes, `${record.bytes} > ${maxRecordBytes}`);
          for (const gone of [...shape.cores, ...(extra ? [extra.core] : [])]) {
            assert.ok(!record.json.includes(gone), `a redacted value is still in the record (${gone})`);
          }
          assert.ok(redacted.length > 0);
          if (truncated) {
            assert.equal(output.annotations?.[Annotation.Truncated], 'true');
          } else {
            assert.deepEqual(output.annotations?.[Annotation.Redacted]?.split(','), redacted);
            assert.deepEqual(output['x-unknown'], JSON.parse(JSON.stringify(unknownValue)));
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
