import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type AuthConfig, createAuthenticator } from '../../src/auth.ts';
import { RequestError } from '../../src/errors.ts';

const OLD = 'old-token-0123456789abcdef';
const NEW = 'new-token-fedcba9876543210';
const secrets = (...values: string[]) => values.map((secret) => ({ secret }));
const basic = (pair: string): string => `Basic ${Buffer.from(pair, 'utf8').toString('base64')}`;

function assertRefused(config: AuthConfig, header: string | undefined, reason: RegExp, challenge: string): void {
  assert.throws(
    () => createAuthenticator(config).check(header),
    (error: unknown) => {
      assert.ok(error instanceof RequestError, String(error));
      assert.equal(error.status, 401);
      assert.match(error.message, reason);
      assert.match(error.message, /; nothing was written$/);
      assert.deepEqual(error.headers, { 'www-authenticate': challenge });
      for (const secret of [OLD, NEW, 'wrong-token-value', 'hunter2']) assert.ok(!error.message.includes(secret.slice(0, 6)));
      return true;
    },
  );
}

describe('caller authentication', () => {
  const tokens: AuthConfig = { mode: 'credentials', tokens: secrets(OLD, NEW), basic: [] };
  const passwords: AuthConfig = { mode: 'credentials', tokens: [], basic: secrets('audit:pa:ss', 'ops:hunter3') };
  const both: AuthConfig = { mode: 'credentials', tokens: secrets(NEW), basic: secrets('audit:pa:ss') };
  const BEARER = 'Bearer realm="kube-audit-relay"';
  const BASIC = 'Basic realm="kube-audit-relay"';

  it("says which cluster the matching credential names, with several per cluster, and none for a line without one", () => {
    const fleet = createAuthenticator({
      mode: 'credentials',
      tokens: [{ secret: OLD, cluster: 'prod' }, { secret: NEW, cluster: 'prod' }, { secret: 'staging-token-00000000', cluster: 'staging' }, { secret: 'legacy-token-000000000' }],
      basic: [{ secret: 'audit:pa:ss', cluster: 'edge' }],
    });
    assert.deepEqual(fleet.check(`Bearer ${OLD}`), { cluster: 'prod' });
    assert.deepEqual(fleet.check(`Bearer ${NEW}`), { cluster: 'prod' });
    assert.deepEqual(fleet.check('Bearer staging-token-00000000'), { cluster: 'staging' });
    assert.deepEqual(fleet.check('Bearer legacy-token-000000000'), {});
    assert.deepEqual(fleet.check(basic('audit:pa:ss')), { cluster: 'edge' });
    assert.throws(() => fleet.check('Bearer unknown-token-0000000'), /bearer token not accepted/);
  });

  it('accepts any of several tokens (rotation), with the scheme in any case', () => {
    const auth = createAuthenticator(tokens);
    for (const header of [`Bearer ${OLD}`, `Bearer ${NEW}`, `bearer ${NEW}`, `BEARER ${OLD}`, `Bearer  ${OLD} `]) {
      assert.doesNotThrow(() => auth.check(header), header);
    }
  });

  it('refuses a wrong, partial or missing token with 401 and a Bearer challenge', () => {
    assertRefused(tokens, 'Bearer wrong-token-value', /^bearer token not accepted/, BEARER);
    assertRefused(tokens, `Bearer ${OLD.slice(0, -1)}`, /^bearer token not accepted/, BEARER);
    assertRefused(tokens, `Bearer ${OLD}x`, /^bearer token not accepted/, BEARER);
    assertRefused(tokens, 'Bearer', /^bearer token not accepted/, BEARER);
    assertRefused(tokens, undefined, /^missing credentials/, BEARER);
    assertRefused(tokens, '', /^missing credentials/, BEARER);
    // A bare token is not echoed: the message is logged.
    assertRefused(tokens, OLD, /^unrecognised authorization scheme not accepted; expected Bearer;/, BEARER);
    assertRefused(tokens, `Token ${OLD}`, /^unrecognised authorization scheme not accepted/, BEARER);
    assertRefused(tokens, basic('audit:pa:ss'), /^authorization scheme "basic" not accepted; expected Bearer;/, BEARER);
  });

  it('accepts basic credentials, passwords with colons included', () => {
    const auth = createAuthenticator(passwords);
    assert.doesNotThrow(() => auth.check(basic('audit:pa:ss')));
    assert.doesNotThrow(() => auth.check(basic('ops:hunter3').replace('Basic', 'basic')));
  });

  it('refuses wrong basic credentials with a Basic challenge', () => {
    assertRefused(passwords, basic('audit:pa:sS'), /^basic auth credentials not accepted/, BASIC);
    assertRefused(passwords, basic('ops:hunter2'), /^basic auth credentials not accepted/, BASIC);
    assertRefused(passwords, basic('audit'), /^basic auth credentials not accepted/, BASIC);
    assertRefused(passwords, 'Basic !!!not-base64', /^basic auth credentials not accepted/, BASIC);
    assertRefused(passwords, `Bearer ${NEW}`, /^authorization scheme "bearer" not accepted; expected Basic;/, BASIC);
  });

  it('offers both challenges when both kinds are configured', () => {
    const auth = createAuthenticator(both);
    assert.doesNotThrow(() => auth.check(`Bearer ${NEW}`));
    assert.doesNotThrow(() => auth.check(basic('audit:pa:ss')));
    assertRefused(both, 'Digest x', /^authorization scheme "digest" not accepted; expected Bearer, Basic;/, `${BEARER}, ${BASIC}`);
    assertRefused(both, `Bearer ${OLD}`, /^bearer token not accepted/, `${BEARER}, ${BASIC}`);
  });

  it('lets anyone in with mode none', () => {
    const auth = createAuthenticator({ mode: 'none' });
    for (const header of [undefined, '', 'Bearer anything']) assert.doesNotThrow(() => auth.check(header));
  });
});
