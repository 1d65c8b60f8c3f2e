// What the receiver does to event content, through the real server: secrets redacted, oversized events truncated
// to valid JSON with the truncation annotations, concurrent batches kept whole, in-flight batches finished on stop.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Annotation } from '../../src/audit/annotations.ts';
import { REDACTED } from '../../src/audit/redact.ts';
import { batches, eventList, send } from '../support/http-client.ts';
import { Fixture, fixtureFile, fixtureFiles, fixtureLine } from '../support/records.ts';
import { startServe } from '../support/serve.ts';

type Json = Record<string, any>;
const metadata = fixtureFile(Fixture.Metadata);
/** Small events and ones of 70 to 160 KB, in one batch. */
const mixedSizes = [...metadata.slice(0, 5), ...fixtureFile(Fixture.Large), ...metadata.slice(5, 10)];

/** A Metadata-level Secret create at RequestResponse level: the bodies the API server would add. */
function secretEvent(): string {
  const event = JSON.parse(fixtureLine(Fixture.Metadata, '0a1b2c3d')) as Json;
  const secret = {
    kind: 'Secret',
    apiVersion: 'v1',
    metadata: {
      name: 'example-secret',
      namespace: 'default',
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"data":{"password":"aHVudGVyMg=="}}' },
    },
    data: { password: 'aHVudGVyMg==', username: 'YWRtaW4=' },
    stringData: { token: 'plain-text-token-value' },
    type: 'Opaque',
  };
  return JSON.stringify({ ...event, level: 'RequestResponse', requestObject: secret, responseObject: { ...secret, stringData: undefined } });
}

/** A Metadata-level TokenReview at RequestResponse level, carrying the token being reviewed. */
function tokenReviewEvent(): string {
  const event = JSON.parse(fixtureFiles().flatMap((file) => file.lines).find((line) => line.includes('"resource":"tokenreviews"'))!) as Json;
  const review = { kind: 'TokenReview', apiVersion: 'authentication.k8s.io/v1', spec: { token: 'eyJhbGciOiJSUzI1NiJ9.reviewed-token' } };
  return JSON.stringify({ ...event, level: 'RequestResponse', requestObject: review, responseObject: { ...review, status: { authenticated: true } } });
}

describe('redaction', () => {
  test('Secret data, stringData and last-applied, and TokenReview tokens, with an annotation saying what went', async () => {
    const input = [secretEvent(), tokenReviewEvent(), metadata[0]!];
    const server = await startServe([]);
    try {
      assert.equal((await send(server.url, eventList(input))).status, 200);
    } finally {
      await server.stop();
    }
    const [secret, review, untouched] = server.stdout().trim().split('\n');
    for (const value of ['aHVudGVyMg==', 'YWRtaW4=', 'plain-text-token-value', 'reviewed-token']) {
      assert.ok(!server.stdout().includes(value), 'no secret value is written');
    }
    const stored = JSON.parse(secret!) as Json;
    assert.deepEqual(stored.requestObject.data, { password: REDACTED, username: REDACTED });
    assert.deepEqual(stored.requestObject.stringData, { token: REDACTED });
    assert.equal(stored.responseObject.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'], REDACTED);
    assert.match(stored.annotations[Annotation.Redacted], /requestObject\.data.*requestObject\.stringData/);
    assert.equal(stored.requestObject.metadata.name, 'example-secret', 'everything else is kept');
    assert.equal(JSON.parse(review!).requestObject.spec.token, REDACTED);
    assert.equal(untouched, metadata[0], 'events without secrets stay byte-equal');
  });

  test('REDACT_PATHS adds paths; REDACT_SECRETS=false turns the built-in rules off', async () => {
    const server = await startServe([], { REDACT_SECRETS: 'false', REDACT_PATHS: 'sourceIPs.*,annotations["authorization.k8s.io/reason"]' });
    try {
      assert.equal((await send(server.url, eventList([secretEvent()]))).status, 200);
    } finally {
      await server.stop();
    }
    const stored = JSON.parse(server.stdout()) as Json;
    assert.equal(stored.requestObject.data.password, 'aHVudGVyMg==');
    assert.deepEqual(stored.sourceIPs, [REDACTED]);
    assert.equal(stored.annotations['authorization.k8s.io/reason'], REDACTED);
  });
});

describe('truncation', () => {
  test('an event over --max-event-bytes loses its bodies first, as the API server truncates, and says so', async () => {
    const big = mixedSizes.filter((line) => line.length > 100_000);
    assert.ok(big.length >= 2, 'the fixtures have events over 100 KB');
    // Secret redaction off: it would shrink the large Secret below the limit before truncation could.
    const server = await startServe(['--max-event-bytes', '65536'], { REDACT_SECRETS: 'false' });
    try {
      const answer = await send(server.url, eventList(mixedSizes));
      assert.equal(answer.status, 200, answer.body);
      assert.equal((JSON.parse(answer.body) as Json).truncated, mixedSizes.filter((line) => Buffer.byteLength(line) > 65536).length);
    } finally {
      await server.stop();
    }
    const written = server.stdout().trim().split('\n');
    assert.equal(written.length, mixedSizes.length, 'no event dropped');
    written.forEach((line, index) => {
      const original = mixedSizes[index]!;
      if (Buffer.byteLength(original) <= 65536) return assert.equal(line, original);
      assert.ok(Buffer.byteLength(line) <= 65536);
      const stored = JSON.parse(line) as Json;
      const { requestObject: _request, responseObject: _response, annotations, ...rest } = JSON.parse(original) as Json;
      assert.equal(stored.annotations[Annotation.Truncated], 'true');
      assert.match(stored.annotations[Annotation.TruncatedFields], /responseObject/);
      assert.equal(stored.responseObject, undefined);
      assert.deepEqual({ ...stored, annotations: undefined }, { ...rest, annotations: undefined });
      for (const [key, value] of Object.entries(annotations ?? {})) assert.equal(stored.annotations[key], value);
    });
  });

  test('an event still too large without bodies becomes a valid skeleton, never dropped', async () => {
    const event = JSON.parse(fixtureLine(Fixture.Metadata, '1b2c3d4e')) as Json; // kubectl exec
    event.requestURI = `${event.requestURI}&command=${'x'.repeat(20_000)}`;
    const server = await startServe(['--max-event-bytes', '4096']);
    try {
      assert.equal((await send(server.url, eventList([JSON.stringify(event)]))).status, 200);
    } finally {
      await server.stop();
    }
    const line = server.stdout().trim();
    assert.ok(Buffer.byteLength(line) <= 4096);
    const stored = JSON.parse(line) as Json;
    assert.equal(stored.annotations[Annotation.TruncatedFields], 'skeleton');
    for (const field of ['auditID', 'stage', 'verb', 'objectRef', 'stageTimestamp']) {
      assert.deepEqual(stored[field], event[field], field);
    }
    assert.equal(stored.user.username, event.user.username);
    assert.equal(stored.responseStatus.code, event.responseStatus.code);
  });
});

describe('concurrency and stopping', () => {
  test('concurrent batches into one file: every line whole, every event once', async () => {
    const output = join(mkdtempSync(join(tmpdir(), 'kar-concurrent-')), 'audit.log');
    // Secret redaction off: every line must arrive as sent, the v1beta1 Secret's data included.
    const server = await startServe(['--output', output], { REDACT_SECRETS: 'false' });
    const lines = fixtureFile(Fixture.V1beta1);
    try {
      const answers = await Promise.all(batches(lines, 3).map((batch) => send(server.url, eventList(batch, 'audit.k8s.io/v1beta1'))));
      assert.deepEqual(new Set(answers.map((answer) => answer.status)), new Set([200]));
    } finally {
      await server.stop();
    }
    const written = readFileSync(output, 'utf8').trim().split('\n');
    assert.deepEqual([...written].sort(), [...lines].sort());
  });

  test('a body arriving in pieces is stored whole, with content-length or chunked', async () => {
    const server = await startServe([]);
    // Two batches of different events: a retry's events would be recognised as duplicates and skipped.
    const batchLines = [metadata.slice(0, 20), metadata.slice(20, 40)];
    const sendInPieces = (lines: readonly string[], declareLength: boolean): Promise<number> =>
      new Promise<number>((resolve, reject) => {
        const body = Buffer.from(eventList(lines));
        const cuts = [0, 1, 700, 701, 5000, Math.floor(body.length / 2), body.length - 1, body.length];
        const headers = declareLength ? { 'content-length': body.length } : {};
        const outgoing = request(new URL(server.url), { method: 'POST', headers }, (response) => {
          response.resume();
          response.on('end', () => resolve(response.statusCode ?? 0));
        });
        outgoing.on('error', reject);
        // A pause between pieces, so that the server reads each on its own.
        const write = (piece: number): void => {
          if (piece === cuts.length - 1) return void outgoing.end();
          outgoing.write(body.subarray(cuts[piece], cuts[piece + 1]));
          setTimeout(() => write(piece + 1), 20);
        };
        write(0);
      });
    try {
      assert.equal(await sendInPieces(batchLines[0]!, true), 200);
      // Without content-length, node's client sends the body chunked.
      assert.equal(await sendInPieces(batchLines[1]!, false), 200);
    } finally {
      await server.stop();
    }
    assert.equal(server.stdout(), `${batchLines.flat().join('\n')}\n`);
  });

  test('stopping finishes a batch still arriving, then exits 0', async () => {
    const server = await startServe([]);
    const body = eventList(metadata.slice(0, 10));
    const answer = new Promise<number>((resolve, reject) => {
      const outgoing = request(new URL(server.url), { method: 'POST', headers: { 'content-length': Buffer.byteLength(body) } }, (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      });
      outgoing.on('error', reject);
      outgoing.write(body.slice(0, 1000));
      setTimeout(() => outgoing.end(body.slice(1000)), 300);
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const stopped = server.stop();
    assert.equal(await answer, 200);
    assert.equal(await stopped, 0);
    assert.equal(server.stdout(), `${metadata.slice(0, 10).join('\n')}\n`);
  });
});
