import { stringify } from 'yaml';

/** How the API server proves itself to the relay; at most one of token and basic, optionally with a client certificate. */
export interface WebhookCredentials {
  /** A bearer token written into the kubeconfig (`token`). */
  readonly token?: string;
  /** A file on the API server's host holding the bearer token (`tokenFile`); read by the API server on each use. */
  readonly tokenFile?: string;
  /** Basic auth (`username`/`password`). */
  readonly basic?: { readonly username: string; readonly password: string };
  /** Client certificate and key: paths on the API server's host, or PEM text to embed as `*-data`. */
  readonly clientCertificate?: FileOrData;
  readonly clientKey?: FileOrData;
}

/** A file the API server reads by path, or its contents embedded in the kubeconfig. */
export type FileOrData = { readonly path: string } | { readonly data: string };

/** Everything the webhook kubeconfig says. */
export interface WebhookKubeconfigSpec {
  /** The relay's URL; the API server POSTs every batch to it. */
  readonly server: string;
  readonly credentials: WebhookCredentials;
  /** CA bundle that signed the relay's certificate; omitted: the host's trusted roots. */
  readonly certificateAuthority?: FileOrData;
  readonly insecureSkipTlsVerify?: boolean;
  /** Name checked against the relay's certificate instead of the URL's host. */
  readonly tlsServerName?: string;
  /** http(s) or socks5 proxy the API server connects through. */
  readonly proxyUrl?: string;
}

/** The name used for the cluster, user and context entries. */
const WEBHOOK_ENTRY_NAME = 'kube-audit-relay';

/**
 * Everything in a spec the API server would silently ignore, drop or refuse: credentials over plain http (it sends
 * them only over https), a query string or fragment (dropped), token together with basic auth, TLS settings for an
 * http:// server, insecure-skip-tls-verify together with a CA. Returns one message per problem; empty when sound.
 */
export function kubeconfigProblems(spec: WebhookKubeconfigSpec): string[] {
  const problems: string[] = [];
  let url: URL;
  try {
    url = new URL(spec.server);
  } catch {
    return [`--server '${spec.server}' is not a URL: give the relay's full address, e.g. https://relay.example.com/audit`];
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') problems.push(`--server must be an https:// URL (http:// only without credentials), got ${url.protocol}`);
  if (url.search !== '' || spec.server.includes('?')) {
    problems.push('--server has a query string, which the API server drops from every request (client-go sets its own ?timeout=): put everything the relay needs in the path');
  }
  if (url.hash !== '' || spec.server.includes('#')) problems.push('--server has a #fragment, which is never sent: remove it');
  if (url.username !== '' || url.password !== '') problems.push('--server has user:password@ in it, which the API server does not send: use --basic-auth-file');
  const { credentials } = spec;
  const tokens = [credentials.token !== undefined, credentials.tokenFile !== undefined].filter(Boolean).length;
  if (tokens > 1) problems.push('give one token source: --token-file or --token-env');
  if (tokens > 0 && credentials.basic) {
    problems.push('a token and basic auth together are refused by client-go ("username/password or bearer token may be set, but not both"): choose one');
  }
  if ((credentials.clientCertificate === undefined) !== (credentials.clientKey === undefined)) {
    problems.push('--client-cert and --client-key go together: a client certificate needs its key');
  }
  const hasCredentials = tokens > 0 || credentials.basic !== undefined || credentials.clientCertificate !== undefined;
  if (url.protocol === 'http:') {
    if (hasCredentials) {
      problems.push('credentials with an http:// server: the API server sends tokens, basic auth and client certificates only over https; use an https:// URL');
    }
    const tls = [spec.certificateAuthority && '--ca-file', spec.insecureSkipTlsVerify && '--insecure-skip-tls-verify', spec.tlsServerName && '--tls-server-name'].filter(Boolean);
    if (tls.length > 0) problems.push(`${tls.join(', ')} with an http:// server would be ignored: use an https:// URL`);
  }
  if (spec.insecureSkipTlsVerify && spec.certificateAuthority) {
    problems.push('--insecure-skip-tls-verify together with --ca-file is refused by client-go (a CA cannot be checked when verification is off): give one');
  }
  if (spec.proxyUrl !== undefined) {
    let proxy: URL | undefined;
    try {
      proxy = new URL(spec.proxyUrl);
    } catch {
      problems.push(`--proxy-url '${spec.proxyUrl}' is not a URL`);
    }
    if (proxy && !['http:', 'https:', 'socks5:'].includes(proxy.protocol)) problems.push(`--proxy-url must be http://, https:// or socks5://, got ${proxy.protocol}`);
  }
  return problems;
}

const base64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

function fileOrData(field: string, value: FileOrData | undefined): Record<string, string> {
  if (value === undefined) return {};
  return 'path' in value ? { [field]: value.path } : { [`${field}-data`]: base64(value.data) };
}

/** The webhook kubeconfig as a plain object: one cluster, one user, one context, and current-context naming it. */
function buildWebhookKubeconfig(spec: WebhookKubeconfigSpec): Record<string, unknown> {
  const { credentials } = spec;
  const cluster = {
    server: spec.server,
    ...fileOrData('certificate-authority', spec.certificateAuthority),
    ...(spec.insecureSkipTlsVerify ? { 'insecure-skip-tls-verify': true } : {}),
    ...(spec.tlsServerName ? { 'tls-server-name': spec.tlsServerName } : {}),
    ...(spec.proxyUrl ? { 'proxy-url': spec.proxyUrl } : {}),
  };
  const user = {
    ...(credentials.token !== undefined ? { token: credentials.token } : {}),
    ...(credentials.tokenFile !== undefined ? { tokenFile: credentials.tokenFile } : {}),
    ...(credentials.basic ? { username: credentials.basic.username, password: credentials.basic.password } : {}),
    ...fileOrData('client-certificate', credentials.clientCertificate),
    ...fileOrData('client-key', credentials.clientKey),
  };
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: WEBHOOK_ENTRY_NAME, cluster }],
    users: [{ name: WEBHOOK_ENTRY_NAME, user }],
    contexts: [{ name: WEBHOOK_ENTRY_NAME, context: { cluster: WEBHOOK_ENTRY_NAME, user: WEBHOOK_ENTRY_NAME } }],
    'current-context': WEBHOOK_ENTRY_NAME,
    preferences: {},
  };
}

/** The kubeconfig as YAML, with a header saying which API server flag reads it. */
export function renderWebhookKubeconfig(spec: WebhookKubeconfigSpec): string {
  return `# kube-audit-relay webhook kubeconfig: pass to kube-apiserver as --audit-webhook-config-file\n${stringify(buildWebhookKubeconfig(spec), { lineWidth: 0 })}`;
}
