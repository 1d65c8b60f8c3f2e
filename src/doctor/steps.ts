import { lookup } from 'node:dns/promises';
import { isIP, connect as netConnect } from 'node:net';
import { checkServerIdentity, connect as tlsConnect, type PeerCertificate } from 'node:tls';
import { post, type Answer } from '../replay/webhook-sender.ts';
import { canaryBatch, canaryEvent, CANARY_USERNAME } from './canary.ts';
import { StepFailure, type Step } from './step.ts';
import { loadWebhookKubeconfig, type WebhookConnection } from './webhook-kubeconfig.ts';

/** What the steps share: the input, and what each step found for the next. */
export interface DoctorState {
  readonly kubeconfigPath: string;
  /** Per network step; the API server's webhook client allows 30 s per attempt. */
  readonly timeoutMs: number;
  /** kube-audit-relay's version, for the canary's userAgent. */
  readonly version: string;
  readonly now: () => number;
  connection?: WebhookConnection;
  address?: string;
  answer?: Answer;
}

const need = <T>(value: T | undefined): T => {
  if (value === undefined) throw new Error('a doctor step ran before the step it depends on');
  return value;
};

const portOf = (url: URL): number => Number(url.port || (url.protocol === 'https:' ? 443 : 80));
/** URL.hostname keeps the brackets of an IPv6 literal. */
const hostOf = (url: URL): string => url.hostname.replace(/^\[(.*)\]$/, '$1');
const errorCode = (error: unknown): string => (error as NodeJS.ErrnoException).code ?? (error as Error).message;

const kubeconfig: Step<DoctorState> = {
  name: 'kubeconfig',
  async run(state) {
    const connection = loadWebhookKubeconfig(state.kubeconfigPath);
    state.connection = connection;
    if (connection.problems.length > 0) {
      throw new StepFailure(connection.problems.join('; '), 'change the kubeconfig (or regenerate it with kube-audit-relay kubeconfig, which refuses these), then restart kube-apiserver');
    }
    const proxy = connection.proxyUrl === undefined ? '' : `; note: proxy-url ${connection.proxyUrl} is not used by doctor, which connects directly`;
    return `context ${connection.context}, server ${connection.url.href}, ${connection.credential ?? 'no credentials'}${proxy}`;
  },
};

const resolveName: Step<DoctorState> = {
  name: 'resolve',
  async run(state) {
    const host = hostOf(need(state.connection).url);
    if (isIP(host) !== 0) {
      state.address = host;
      return `${host} is an address: nothing to resolve`;
    }
    try {
      const addresses = await lookup(host, { all: true });
      state.address = addresses[0]!.address;
      return `${host} is ${addresses.map((entry) => entry.address).join(', ')}`;
    } catch (error) {
      throw new StepFailure(`${host} does not resolve on this host (${errorCode(error)})`, `add ${host} to the DNS (or /etc/hosts) the control-plane node uses, or put a name or address it resolves in the kubeconfig's server`, { cause: error });
    }
  },
};

const connect: Step<DoctorState> = {
  name: 'connect',
  run(state) {
    const { url } = need(state.connection);
    const address = need(state.address);
    const port = portOf(url);
    return new Promise((resolve, reject) => {
      const socket = netConnect({ host: address, port, timeout: state.timeoutMs });
      const fail = (why: string, fix: string, cause?: unknown): void => {
        socket.destroy();
        reject(new StepFailure(why, fix, { cause }));
      };
      socket.once('connect', () => {
        socket.destroy();
        resolve(`TCP connection to ${address} port ${port}`);
      });
      socket.once('timeout', () => fail(`no answer from ${address} port ${port} within ${state.timeoutMs} ms`, 'a firewall, security group or NetworkPolicy drops traffic from this node to the relay: allow it, and check the relay listens on that address'));
      socket.once('error', (error) => {
        const code = errorCode(error);
        const fix =
          code === 'ECONNREFUSED'
            ? `nothing listens on ${address} port ${port}: start the relay there (serve --host/--port) or correct the port in the kubeconfig's server`
            : 'check the route and firewall from this node to the relay';
        fail(`cannot connect to ${address} port ${port}: ${code}`, fix, error);
      });
    });
  },
};

/** openssl verify errors meaning "not signed by a CA we trust". */
const UNTRUSTED = new Set(['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_SIGNATURE_FAILURE']);

const tls: Step<DoctorState> = {
  name: 'tls',
  run(state) {
    const connection = need(state.connection);
    if (connection.url.protocol !== 'https:') return Promise.resolve('plain http: no TLS to check (use https in production)');
    const host = hostOf(connection.url);
    const name = connection.tlsServerName ?? host;
    const trusted = connection.caField ?? "the host's trusted roots (no certificate-authority in the kubeconfig)";
    return new Promise((resolve, reject) => {
      const socket = tlsConnect({
        host: need(state.address),
        port: portOf(connection.url),
        // An IP address is not a valid SNI name; the certificate is checked against `name` either way.
        ...(isIP(name) === 0 ? { servername: name } : {}),
        checkServerIdentity: (_host, certificate) => checkServerIdentity(name, certificate),
        ca: connection.ca,
        cert: connection.clientCert,
        key: connection.clientKey,
        rejectUnauthorized: !connection.insecureSkipTlsVerify,
        timeout: state.timeoutMs,
      });
      const fail = (why: string, fix: string, cause?: unknown): void => {
        socket.destroy();
        reject(new StepFailure(why, fix, { cause }));
      };
      socket.once('secureConnect', () => {
        const certificate = socket.getPeerCertificate();
        const protocol = socket.getProtocol();
        socket.destroy();
        const skipped = connection.insecureSkipTlsVerify ? ' NOT verified (insecure-skip-tls-verify)' : ` verified with ${trusted} for ${name}`;
        resolve(`${protocol ?? 'TLS'}, certificate ${subject(certificate)}${skipped}`);
      });
      socket.once('timeout', () => fail(`no TLS handshake within ${state.timeoutMs} ms`, 'check that the relay serves https on this port'));
      socket.once('error', (error: Error & { code?: string; cert?: PeerCertificate }) => {
        const code = errorCode(error);
        if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
          const names = error.cert?.subjectaltname ?? 'none';
          const field = connection.tlsServerName === undefined ? "the server URL's host" : 'tls-server-name';
          fail(`the relay's certificate is not valid for ${name} (${field}); it names ${names}`, `set tls-server-name in the kubeconfig's cluster to a name the certificate holds, or reissue the relay's certificate with ${name} in its subjectAltName`, error);
        } else if (UNTRUSTED.has(code)) {
          fail(`the relay's certificate is not signed by ${trusted} (${code})`, "put the CA that issued the relay's certificate (serve --tls-cert) in the kubeconfig's certificate-authority or certificate-authority-data", error);
        } else if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
          fail(`the relay's certificate is outside its validity period (${code})`, "renew the relay's certificate, and check this node's clock", error);
        } else if (code === 'EPROTO' || code === 'ERR_SSL_WRONG_VERSION_NUMBER') {
          fail(`the relay does not speak TLS on this port (${code})`, 'start serve with --tls-cert and --tls-key, or correct the port in the server URL', error);
        } else {
          fail(`TLS handshake failed: ${code}`, "check the relay's certificate and the kubeconfig's certificate-authority, tls-server-name and client-certificate", error);
        }
      });
    });
  },
};

function subject(certificate: PeerCertificate): string {
  const cn = certificate.subject?.CN;
  return `${cn ? `CN=${cn}` : 'without CN'}${certificate.subjectaltname ? ` (${certificate.subjectaltname})` : ''}`;
}

const canary: Step<DoctorState> = {
  name: 'canary',
  async run(state, signal) {
    const connection = need(state.connection);
    const event = canaryEvent(state.now(), state.version);
    let answer: Answer;
    try {
      answer = await post(
        {
          url: connection.url,
          ...(connection.authorization !== undefined ? { authorization: connection.authorization } : {}),
          ...(connection.ca !== undefined ? { ca: connection.ca } : {}),
          ...(connection.clientCert !== undefined ? { cert: connection.clientCert } : {}),
          ...(connection.clientKey !== undefined ? { key: connection.clientKey } : {}),
          ...(connection.tlsServerName !== undefined ? { servername: connection.tlsServerName } : {}),
          rejectUnauthorized: !connection.insecureSkipTlsVerify,
          timeoutMs: state.timeoutMs,
          userAgent: `kube-audit-relay-doctor/${state.version}`,
        },
        canaryBatch(event),
        signal,
      );
    } catch (error) {
      const code = errorCode(error);
      const fix =
        code === 'ECONNRESET' || code === 'EPIPE'
          ? 'the relay closed the connection: if it requires client certificates (serve --client-ca), give client-certificate and client-key signed by that CA'
          : 'check the relay is running and its log for this request';
      throw new StepFailure(`the POST failed: ${code}`, fix, { cause: error });
    }
    state.answer = answer;
    // The relay's messages never quote event content.
    const said = answer.reason === '' ? '' : `: ${answer.reason}`;
    if (answer.status === 401) {
      throw new StepFailure(
        `the relay refused the credentials (401${said}); sent: ${connection.credential ?? 'none'}`,
        connection.authorization === undefined
          ? 'the relay requires credentials: add token/tokenFile or username/password to the kubeconfig user'
          : "put the kubeconfig's token in the relay's --token-file (AUTH_TOKENS), or its username:password in --basic-auth-file",
      );
    }
    if (answer.status < 200 || answer.status > 206) {
      throw new StepFailure(`the relay answered ${answer.status}${said}; the API server would retry and then drop the batch`, 'fix what the message says, using the relay log line for this request');
    }
    return `answered ${answer.status} to a batch holding one canary event (auditID ${event.auditID}, user ${CANARY_USERNAME})`;
  },
};

const stored: Step<DoctorState> = {
  name: 'stored',
  async run(state) {
    const { body } = need(state.answer);
    let counts: Record<string, unknown>;
    try {
      counts = JSON.parse(body) as Record<string, unknown>;
    } catch {
      counts = {};
    }
    const number = (field: string): number | undefined => (typeof counts[field] === 'number' ? (counts[field] as number) : undefined);
    const written = number('written');
    const duplicates = number('duplicates');
    if (written === undefined || duplicates === undefined) {
      throw new StepFailure('the answer carries no batch counts: whatever answered is not kube-audit-relay', "point the kubeconfig's server at the relay itself, not at a proxy or another receiver");
    }
    if (number('filtered') === 1) {
      throw new StepFailure('the relay filtered the canary out (a drop rule matched it)', `narrow the drop rule that matches user ${CANARY_USERNAME} (--drop-rules-file / DROP_RULES)`);
    }
    if (number('canaries') !== 1) {
      throw new StepFailure('the relay did not count the canary', 'upgrade the relay to a version that counts canaries (the answer has no "canaries": 1)');
    }
    if (written + duplicates !== 1) throw new StepFailure(`the relay stored ${written + duplicates} of 1 events`, "check the relay's log line for this batch and its output");
    const cluster = typeof counts.cluster === 'string' ? `, as cluster ${counts.cluster}` : ', with no cluster (set --cluster or name one on the credential line)';
    return `the relay says it stored it (written ${written}, canaries 1${cluster})`;
  },
};

/** Everything the API server does between reading its webhook kubeconfig and a stored batch, in order. */
export const DOCTOR_STEPS: readonly Step<DoctorState>[] = [kubeconfig, resolveName, connect, tls, canary, stored];
