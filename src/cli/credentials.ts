import { readFileSync, statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import type { Env } from '../config.ts';
import type { FileOrData, WebhookCredentials } from '../generate/kubeconfig.ts';
import { InputError, unreadable, UsageError } from './command.ts';

/** The flags saying how to reach and authenticate to the relay, shared by `kubeconfig` and `replay`. */
export const CONNECTION_OPTIONS = {
  'token-file': { type: 'string' },
  'token-env': { type: 'string' },
  'basic-auth-file': { type: 'string' },
  'client-cert': { type: 'string' },
  'client-key': { type: 'string' },
  'ca-file': { type: 'string' },
  'insecure-skip-tls-verify': { type: 'boolean' },
  'tls-server-name': { type: 'string' },
} as const;

/** Help lines for CONNECTION_OPTIONS. */
export const CONNECTION_USAGE = `  --token-file FILE        bearer token, the whole file (one line)
  --token-env VAR          bearer token from environment variable VAR
  --basic-auth-file FILE   basic auth: one username:password line
  --client-cert FILE       client certificate (PEM), with --client-key
  --client-key FILE        its private key (PEM)
  --ca-file FILE           CA bundle (PEM) that signed the relay's certificate; default: the host's trusted roots
  --insecure-skip-tls-verify  do not check the relay's certificate (testing only)
  --tls-server-name NAME   name to check the relay's certificate against instead of the URL's host`;

type ConnectionValues = { [K in keyof typeof CONNECTION_OPTIONS]?: (typeof CONNECTION_OPTIONS)[K]['type'] extends 'boolean' ? boolean : string };

/** What the connection flags say, with files either read (embed) or referred to by absolute path. */
export interface Connection {
  readonly credentials: WebhookCredentials;
  readonly certificateAuthority?: FileOrData;
  readonly insecureSkipTlsVerify?: boolean;
  readonly tlsServerName?: string;
}

function readText(flag: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw unreadable(`--${flag}`, path, error);
  }
}

/**
 * A file the kubeconfig refers to by path: the API server opens it on its own host, where a relative path would be
 * resolved against its working directory and a missing file fails only when it starts sending. So the path must be
 * absolute and the file must be here, as this command is meant to run on that host (or give --embed).
 */
function referencedPath(flag: string, path: string): string {
  if (!isAbsolute(path)) {
    throw new UsageError(`--${flag} ${path} is a relative path: the kubeconfig is read on the API server's host, so give the absolute path the file has there, or --embed to put its contents in the kubeconfig`);
  }
  try {
    if (!statSync(path).isFile()) throw Object.assign(new Error('not a file'), { code: 'EISDIR' });
  } catch (error) {
    throw new InputError(`${unreadable(`--${flag}`, path, error).message}: the kubeconfig refers to it by path, so run this where the API server will read it, or give --embed`, { cause: error });
  }
  return path;
}

function readToken(flag: string, text: string): string {
  const lines = text.split('\n').map((line) => line.trim()).filter((line) => line.length > 0);
  if (lines.length !== 1) {
    throw new InputError(`--${flag} must hold exactly one token on one line (it holds ${lines.length} non-blank lines): the API server sends the whole file as the token`);
  }
  return lines[0]!;
}

function readPem(flag: string, path: string, embed: boolean): FileOrData {
  const text = readText(flag, embed ? path : referencedPath(flag, path));
  if (!text.includes('-----BEGIN ')) throw new InputError(`--${flag} ${path} is not PEM (no -----BEGIN line)`);
  return embed ? { data: text } : { path };
}

/**
 * Reads the connection flags. With `embed`, every file is read and its contents returned (token files become a
 * token); without, files are referred to by their absolute path, after checking that they exist and hold what they
 * should; the basic-auth file is always read, because a kubeconfig cannot refer to a password file.
 */
export function readConnection(values: ConnectionValues, env: Env, { embed }: { embed: boolean }): Connection {
  const credentials: { -readonly [K in keyof WebhookCredentials]: WebhookCredentials[K] } = {};
  if (values['token-file'] !== undefined) {
    const path = values['token-file'];
    const token = readToken('token-file', readText('token-file', embed ? path : referencedPath('token-file', path)));
    if (embed) credentials.token = token;
    else credentials.tokenFile = path;
  }
  if (values['token-env'] !== undefined) {
    const variable = values['token-env'];
    const value = env[variable];
    if (value === undefined || value.trim() === '') throw new InputError(`--token-env ${variable}: the environment variable is not set or empty`);
    if (credentials.tokenFile !== undefined || credentials.token !== undefined) throw new UsageError('give one token source: --token-file or --token-env');
    credentials.token = readToken('token-env', value);
  }
  if (values['basic-auth-file'] !== undefined) {
    const entries = readText('basic-auth-file', values['basic-auth-file'])
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line.length > 0 && !line.startsWith('#'));
    const entry = entries[0];
    if (entries.length !== 1 || entry === undefined || !entry.includes(':')) {
      throw new InputError(`--basic-auth-file must hold exactly one username:password line (it holds ${entries.length} entries)`);
    }
    const colon = entry.indexOf(':');
    credentials.basic = { username: entry.slice(0, colon), password: entry.slice(colon + 1) };
  }
  if (values['client-cert'] !== undefined) credentials.clientCertificate = readPem('client-cert', values['client-cert'], embed);
  if (values['client-key'] !== undefined) credentials.clientKey = readPem('client-key', values['client-key'], embed);
  return {
    credentials,
    ...(values['ca-file'] !== undefined ? { certificateAuthority: readPem('ca-file', values['ca-file'], embed) } : {}),
    ...(values['insecure-skip-tls-verify'] ? { insecureSkipTlsVerify: true } : {}),
    ...(values['tls-server-name'] !== undefined ? { tlsServerName: values['tls-server-name'] } : {}),
  };
}
