import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse } from 'yaml';
import { StepFailure } from './step.ts';

/** What the API server takes from a webhook kubeconfig, read the way client-go's clientcmd reads it. */
export interface WebhookConnection {
  /** The names client-go followed: current-context, then its cluster and user entries. */
  readonly context: string;
  readonly cluster: string;
  readonly user: string | undefined;
  /** `server` as written. */
  readonly server: string;
  /** The URL the API server POSTs to: `server` without its query string and fragment (client-go drops them). */
  readonly url: URL;
  /** PEM text of certificate-authority(-data); undefined: the host's trusted roots. */
  readonly ca: string | undefined;
  /** Which field `ca` came from, for messages. */
  readonly caField: string | undefined;
  readonly insecureSkipTlsVerify: boolean;
  readonly tlsServerName: string | undefined;
  /** The Authorization header value, from token, tokenFile or username/password. */
  readonly authorization: string | undefined;
  /** What `authorization` is, for messages: `bearer token (tokenFile /x)`, `basic auth (user alice)`. */
  readonly credential: string | undefined;
  readonly clientCert: string | undefined;
  readonly clientKey: string | undefined;
  readonly proxyUrl: string | undefined;
  /** What the API server would silently drop or refuse; the `kubeconfig` step fails when not empty. */
  readonly problems: readonly string[];
}

type Entry = Record<string, unknown>;

function named(list: unknown, kind: string, name: string, field: string): Entry {
  const entries = Array.isArray(list) ? (list as Entry[]) : [];
  const found = entries.find((entry) => entry?.name === name);
  if (found === undefined || typeof found[field] !== 'object' || found[field] === null) {
    const names = entries.map((entry) => entry?.name).filter((value) => typeof value === 'string');
    throw new StepFailure(`no ${kind} named '${name}' (${kind}s: ${names.length > 0 ? names.join(', ') : 'none'})`, `add a ${kind} entry named '${name}' or point the context at an existing one`);
  }
  return found[field] as Entry;
}

const text = (entry: Entry, field: string): string | undefined => {
  const value = entry[field];
  return typeof value === 'string' && value !== '' ? value : undefined;
};

/**
 * Reads a kubeconfig as the API server's webhook does (clientcmd with an explicit path): current-context names a
 * context, whose cluster must have a server; relative file paths are relative to the kubeconfig's directory; *-data
 * fields are base64. Throws StepFailure for what stops client-go from loading it at all.
 */
export function loadWebhookKubeconfig(path: string): WebhookConnection {
  let document: unknown;
  try {
    document = parse(readFileSync(path, 'utf8'));
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code ?? (error as Error).name;
    throw new StepFailure(`cannot read ${path}: ${why}`, 'give the file passed to kube-apiserver as --audit-webhook-config-file (run doctor on the control-plane node)', { cause: error });
  }
  if (typeof document !== 'object' || document === null) throw new StepFailure(`${path} is not a kubeconfig (not a YAML mapping)`, 'generate one with kube-audit-relay kubeconfig');
  const config = document as Entry;
  const contextName = text(config, 'current-context');
  if (contextName === undefined) throw new StepFailure('current-context is not set: the API server would refuse the file', 'set current-context to the context naming the relay (kube-audit-relay kubeconfig writes it)');
  const context = named(config.contexts, 'context', contextName, 'context');
  const clusterName = text(context, 'cluster');
  if (clusterName === undefined) throw new StepFailure(`context '${contextName}' names no cluster`, `set contexts[${contextName}].context.cluster`);
  const cluster = named(config.clusters, 'cluster', clusterName, 'cluster');
  const userName = text(context, 'user');
  const user = userName === undefined ? {} : named(config.users, 'user', userName, 'user');
  const server = text(cluster, 'server');
  if (server === undefined) throw new StepFailure(`cluster '${clusterName}' has no server`, "set clusters[].cluster.server to the relay's https:// URL");
  let url: URL;
  try {
    url = new URL(server);
  } catch (error) {
    throw new StepFailure(`server '${server}' is not a URL`, "give the relay's full address, e.g. https://relay.example.com:8443/", { cause: error });
  }

  const base = dirname(resolve(path));
  const fileOrData = (entry: Entry, field: string): { text: string; field: string } | undefined => {
    const data = text(entry, `${field}-data`);
    if (data !== undefined) return { text: Buffer.from(data, 'base64').toString('utf8'), field: `${field}-data` };
    const file = text(entry, field);
    if (file === undefined) return undefined;
    const absolute = isAbsolute(file) ? file : resolve(base, file);
    return { text: readReferenced(absolute, field), field: `${field} ${absolute}` };
  };

  const problems: string[] = [];
  if (url.protocol !== 'https:' && url.protocol !== 'http:') problems.push(`server must be https:// (or http:// without credentials), got ${url.protocol}`);
  if (url.search !== '' || server.includes('?')) {
    problems.push('server has a query string, which the API server drops from every request (client-go sets its own ?timeout=): put what the relay needs in the path');
  }
  if (url.hash !== '') problems.push('server has a #fragment, which is never sent: remove it');
  if (url.username !== '' || url.password !== '') problems.push('server has user:password@ in it, which the API server does not send: use username and password in the user entry');

  const token = text(user, 'token');
  const tokenFile = text(user, 'tokenFile');
  const username = text(user, 'username');
  const password = typeof user.password === 'string' ? user.password : undefined;
  let authorization: string | undefined;
  let credential: string | undefined;
  if (token !== undefined) {
    authorization = `Bearer ${token}`;
    credential = 'bearer token (token)';
  } else if (tokenFile !== undefined) {
    const absolute = isAbsolute(tokenFile) ? tokenFile : resolve(base, tokenFile);
    authorization = `Bearer ${readReferenced(absolute, 'tokenFile').trim()}`;
    credential = `bearer token (tokenFile ${absolute})`;
  }
  if (username !== undefined || password !== undefined) {
    if (authorization !== undefined) problems.push('user has both a token and username/password, which client-go refuses ("username/password or bearer token may be set, but not both"): keep one');
    else {
      authorization = `Basic ${Buffer.from(`${username ?? ''}:${password ?? ''}`, 'utf8').toString('base64')}`;
      credential = `basic auth (username ${username ?? ''})`;
    }
  }
  const ca = fileOrData(cluster, 'certificate-authority');
  const clientCert = fileOrData(user, 'client-certificate');
  const clientKey = fileOrData(user, 'client-key');
  const insecureSkipTlsVerify = cluster['insecure-skip-tls-verify'] === true;
  if ((clientCert === undefined) !== (clientKey === undefined)) problems.push('client-certificate and client-key go together: give both or neither');
  if (insecureSkipTlsVerify && ca !== undefined) problems.push('insecure-skip-tls-verify together with a certificate-authority is refused by client-go: keep the CA, drop insecure-skip-tls-verify');
  if (url.protocol === 'http:') {
    const sent = [authorization !== undefined && 'a token or basic auth', clientCert !== undefined && 'a client certificate'].filter(Boolean);
    if (sent.length > 0) problems.push(`${sent.join(' and ')} with an http:// server: the API server sends credentials only over https; use an https:// server URL (serve --tls-cert/--tls-key)`);
  }
  if (clientCert !== undefined) credential = credential === undefined ? 'client certificate' : `${credential} and client certificate`;

  const posted = new URL(url);
  posted.search = '';
  posted.hash = '';
  posted.username = '';
  posted.password = '';
  return {
    context: contextName,
    cluster: clusterName,
    user: userName,
    server,
    url: posted,
    ca: ca?.text,
    caField: ca?.field,
    insecureSkipTlsVerify,
    tlsServerName: text(cluster, 'tls-server-name'),
    authorization,
    credential,
    clientCert: clientCert?.text,
    clientKey: clientKey?.text,
    proxyUrl: text(cluster, 'proxy-url'),
    problems,
  };
}

function readReferenced(path: string, field: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new StepFailure(`cannot read ${field} ${path}: ${why}`, `the API server reads ${field} from this path on its host: create the file there, or embed it as ${field === 'tokenFile' ? 'token' : `${field}-data`}`, { cause: error });
  }
}
