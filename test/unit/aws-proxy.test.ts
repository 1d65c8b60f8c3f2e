import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { toProxyResult, toReceiveRequest } from '../../functions/aws/proxy.ts';
import { RequestError } from '../../src/errors.ts';
import { proxyEvent } from '../support/lambda.ts';

describe('API Gateway proxy event translation', () => {
  it('lower-cases header names and decodes a base64 body to the same bytes', () => {
    // Arrange: raw UTF-8 (Főtanúsítvány appears in the OpenShift fixtures) sent both ways.
    const text = '{"kind":"EventList","items":[{"annotations":{"ca":"Főtanúsítvány"}}]}';
    const plain = toReceiveRequest(proxyEvent({ body: text, token: 'a'.repeat(32) }));
    const encoded = toReceiveRequest(proxyEvent({ body: text, token: 'a'.repeat(32), base64: true }));
    // Assert
    assert.deepEqual(Buffer.from(encoded.body), Buffer.from(text, 'utf8'));
    assert.deepEqual(Buffer.from(plain.body), Buffer.from(text, 'utf8'));
    assert.equal(plain.headers.authorization, `Bearer ${'a'.repeat(32)}`);
    assert.equal(plain.headers['content-type'], 'application/json');
    assert.equal(plain.method, 'POST');
    assert.equal(plain.path, '/audit');
  });

  it('keeps every value of a repeated header from multiValueHeaders', () => {
    const event = proxyEvent({ body: '{}' });
    event.multiValueHeaders = { ...event.multiValueHeaders, 'X-Forwarded-For': ['10.0.12.34', '10.0.0.7'] };
    event.headers = { ...event.headers, 'X-Forwarded-For': '10.0.0.7' };
    assert.equal(toReceiveRequest(event).headers['x-forwarded-for'], '10.0.12.34, 10.0.0.7');
  });

  it('works with only headers, or with none, and a null body', () => {
    const event = { ...proxyEvent({ body: '' }), multiValueHeaders: undefined, body: null } as unknown as APIGatewayProxyEvent;
    assert.equal(toReceiveRequest(event).headers['user-agent'], 'kube-apiserver/v1.31.2 (linux/amd64) kubernetes/5864a46');
    const bare = { ...event, headers: null } as unknown as APIGatewayProxyEvent;
    assert.deepEqual(toReceiveRequest(bare).headers, {});
    assert.equal(toReceiveRequest(bare).body.byteLength, 0);
  });

  it('refuses events that are not proxy events with a 400', () => {
    for (const event of [null, {}, { Records: [] }, { httpMethod: 'POST' }]) {
      assert.throws(() => toReceiveRequest(event as unknown as APIGatewayProxyEvent), (error: unknown) => {
        assert.ok(error instanceof RequestError);
        assert.equal(error.status, 400);
        return true;
      });
    }
  });

  it('maps a result to a proxy response without base64', () => {
    const result = toProxyResult({ status: 401, headers: { 'www-authenticate': 'Bearer realm="kube-audit-relay"' }, body: '{"message":"x"}' });
    assert.deepEqual(result, { statusCode: 401, headers: { 'www-authenticate': 'Bearer realm="kube-audit-relay"' }, body: '{"message":"x"}', isBase64Encoded: false });
  });
});
