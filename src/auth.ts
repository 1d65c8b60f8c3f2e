import { createHash, timingSafeEqual } from 'node:crypto';
import { RequestError } from './errors.ts';

/** Who may POST audit events. Client certificates (mTLS) are checked by the transport, before this. */
export type AuthConfig =
  | { readonly mode: 'none' }
  | {
      readonly mode: 'credentials';
      /** Accepted bearer tokens; several allow rotation. */
      readonly tokens: readonly string[];
      /** Accepted `username:password` pairs for basic auth. */
      readonly basic: readonly string[];
    };

export interface Authenticator {
  /** Throws a 401 RequestError unless the Authorization header carries an accepted credential. */
  check(authorization: string | undefined): void;
}

/** HTTP authentication schemes registered with IANA, lower-cased; anything else is not echoed back. */
const KNOWN_SCHEMES = new Set(['basic', 'bearer', 'concealed', 'digest', 'dpop', 'gnap', 'hoba', 'mutual', 'negotiate', 'ntlm', 'oauth', 'privatetoken', 'scram-sha-1', 'scram-sha-256', 'vapid']);

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/**
 * Compares SHA-256 digests with timingSafeEqual, and always against every accepted credential, so that neither the
 * length nor the position of a match shows in the response time.
 */
function matchesAny(presented: string, accepted: readonly Buffer[]): boolean {
  const candidate = digest(presented);
  let matched = false;
  for (const value of accepted) matched = timingSafeEqual(candidate, value) || matched;
  return matched;
}

export function createAuthenticator(config: AuthConfig): Authenticator {
  if (config.mode === 'none') return { check: () => undefined };
  const tokens = config.tokens.map(digest);
  const basic = config.basic.map(digest);
  const challenge = [tokens.length > 0 && 'Bearer realm="kube-audit-relay"', basic.length > 0 && 'Basic realm="kube-audit-relay"']
    .filter(Boolean)
    .join(', ');
  const refuse = (why: string): never => {
    throw new RequestError(401, `${why}; nothing was written`, { 'www-authenticate': challenge });
  };
  return {
    check(authorization) {
      if (!authorization) return refuse('missing credentials: set a token or basic auth in the webhook kubeconfig (https only)');
      const space = authorization.indexOf(' ');
      const scheme = authorization.slice(0, space < 0 ? undefined : space).toLowerCase();
      const value = space < 0 ? '' : authorization.slice(space + 1).trim();
      if (scheme === 'bearer' && tokens.length > 0) {
        if (!matchesAny(value, tokens)) refuse('bearer token not accepted');
        return;
      }
      if (scheme === 'basic' && basic.length > 0) {
        if (!matchesAny(Buffer.from(value, 'base64').toString('utf8'), basic)) refuse('basic auth credentials not accepted');
        return;
      }
      // A header without a scheme is often a bare token: name the scheme only when it is a registered one.
      const shown = KNOWN_SCHEMES.has(scheme) ? `authorization scheme "${scheme}"` : 'unrecognised authorization scheme';
      refuse(`${shown} not accepted; expected ${challenge.replace(/ realm="kube-audit-relay"/g, '')}`);
    },
  };
}
