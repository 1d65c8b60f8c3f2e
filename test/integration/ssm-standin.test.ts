import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { type SsmStandIn, startSsmStandIn } from '../support/ssm-standin.ts';

describe('ssm stand-in through the real SDK', () => {
  let standIn: SsmStandIn;
  let client: SSMClient;

  before(async () => {
    standIn = await startSsmStandIn();
    client = new SSMClient({
      endpoint: standIn.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDSTANDIN', secretAccessKey: 'stand-in-secret' },
      maxAttempts: 1,
    });
  });
  after(() => standIn.close());

  it('returns a SecureString decrypted only when asked to', async () => {
    standIn.putParameter('/relay/tokens', 'token-one-0123456789,token-two-0123456789');
    const plain = await client.send(new GetParameterCommand({ Name: '/relay/tokens', WithDecryption: true }));
    assert.equal(plain.Parameter?.Value, 'token-one-0123456789,token-two-0123456789');
    assert.equal(plain.Parameter?.Type, 'SecureString');
    assert.equal(plain.Parameter?.Version, 1);
    assert.ok(plain.Parameter?.LastModifiedDate instanceof Date);

    const sealed = await client.send(new GetParameterCommand({ Name: '/relay/tokens' }));
    assert.notEqual(sealed.Parameter?.Value, plain.Parameter?.Value);
    assert.ok(!sealed.Parameter?.Value?.includes('token-one'));
  });

  it('answers ParameterNotFound for a missing name and ValidationException for a malformed one', async () => {
    await assert.rejects(client.send(new GetParameterCommand({ Name: '/relay/missing', WithDecryption: true })), (error: Error) => {
      assert.ok(error instanceof ParameterNotFound);
      assert.equal((error as ParameterNotFound).$metadata.httpStatusCode, 400);
      return true;
    });
    await assert.rejects(client.send(new GetParameterCommand({ Name: 'bad name*' })), { name: 'ValidationException' });
  });

  it('counts calls per operation', async () => {
    const before = standIn.calls.get('GetParameter') ?? 0;
    standIn.putParameter('/relay/count', 'x', 'String');
    await client.send(new GetParameterCommand({ Name: '/relay/count' }));
    assert.equal(standIn.calls.get('GetParameter'), before + 1);
  });
});
