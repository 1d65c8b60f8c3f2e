import { createHash, timingSafeEqual } from 'node:crypto';
import { RequestError } from './errors.ts';

/** One accepted credential and the cluster whose API server holds it. */
export interface Credential {
  /** A bearer token, or `username:password` for basic auth. */
  readonly secret: string;
  /** The cluster every event sent with this credential belongs to; undefined: CLUSTER_NAME. */
  readonly cluster?: string;
}

/** Who may POST audit events. Client certificates (mTLS) are checked by the transport, before this. */
export type AuthConfig =
  | { readonly mode: 'none' }
  | {
      readonly mode: 'credentials';
      /** Accepted bearer tokens; several (per cluster) allow rotation. */
      readonly tokens: readonly Credential[];
      /** Accepted `username:password` pairs for basic auth. */
      readonly basic: readonly Credential[];
    };

/** Who the caller proved to be. */
export interface Identity {
  /** The cluster named by the credential that matched; undefined when it names none. */
  readonly cluster?: string;
}

export interface Authenticator {
  /** Throws a 401 RequestError unless the Authorization header carries an accepted credential; says whose it is. */
  check(authorization: string | undefined): Identity;
}

/** HTTP authentication schemes registered with IANA, lower-cased; anything else is not echoed back. */
const KNOWN_SCHEMES = new Set(['basic', 'bearer', 'concealed', 'digest', 'dpop', 'gnap', 'hoba', 'mutual', 'negotiate', 'ntlm', 'oauth', 'privatetoken', 'scram-sha-1', 'scram-sha-256', 'vapid']);

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

interface Accepted {
  readonly digest: Buffer;
  readonly identity: Identity;
}

const accepted = (credentials: readonly Credential[]): Accepted[] =>
  credentials.map(({ secret, cluster }) => ({ digest: digest(secret), identity: cluster === undefined ? {} : { cluster } }));

/**
 * Compares SHA-256 digests with timingSafeEqual, and always against every accepted credential, so that neither the
 * length nor the position of a match shows in the response time.
 */
function findMatch(presented: string, candidates: readonly Accepted[]): Identity | undefined {
  const candidate = digest(presented);
  let found: Identity | undefined;
  for (const entry of candidates) {
    if (timingSafeEqual(candidate, entry.digest)) found ??= entry.identity;
  }
  return found;
}

const NOBODY: Identity = Object.freeze({});

export function createAuthenticator(config: AuthConfig): Authenticator {
  if (config.mode === 'none') return { check: () => NOBODY };
  const tokens = accepted(config.tokens);
  const basic = accepted(config.basic);
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
      if (scheme === 'bearer' && tokens.length > 0) return findMatch(value, tokens) ?? refuse('bearer token not accepted');
      if (scheme === 'basic' && basic.length > 0) {
        return findMatch(Buffer.from(value, 'base64').toString('utf8'), basic) ?? refuse('basic auth credentials not accepted');
      }
      // A header without a scheme is often a bare token: name the scheme only when it is a registered one.
      const shown = KNOWN_SCHEMES.has(scheme) ? `authorization scheme "${scheme}"` : 'unrecognised authorization scheme';
      return refuse(`${shown} not accepted; expected ${challenge.replace(/ realm="kube-audit-relay"/g, '')}`);
    },
  };
}
