// What can stop `serve` from starting after its settings were read, said as configuration errors (exit 2): one
// problem naming the flag, its variable and the fix, never a stack trace.
import { createSecureContext } from 'node:tls';
import type { SettingsReader } from '../config.ts';
import { ConfigError } from '../errors.ts';
import { createFileSink, type JsonLinesOptions } from '../sinks/json-lines.ts';
import type { Sink } from '../sinks/sink.ts';

/** PEM text of the https settings, as read from their files. */
export interface TlsMaterial {
  readonly cert?: string;
  readonly key?: string;
  readonly clientCa?: string;
}

/**
 * Records a problem for each TLS file that OpenSSL cannot use, and for a key that is not the certificate's, so they are
 * reported with every other setting instead of failing when the server starts.
 */
export function checkTlsMaterial(reader: SettingsReader, { cert, key, clientCa }: TlsMaterial): void {
  const unusable = (name: string, what: string, options: Parameters<typeof createSecureContext>[0]): boolean => {
    try {
      createSecureContext(options);
      return false;
    } catch (error) {
      reader.problem(name, `${reader.string(name)} is not ${what} OpenSSL can use (${opensslReason(error)}); give it in PEM form`);
      return true;
    }
  };
  const certBad = cert !== undefined && unusable('TLS_CERT_FILE', 'a certificate chain', { cert });
  const keyBad = key !== undefined && unusable('TLS_KEY_FILE', 'an unencrypted private key', { key });
  if (clientCa !== undefined) unusable('TLS_CLIENT_CA_FILE', 'a CA certificate', { ca: clientCa });
  if (cert === undefined || key === undefined || certBad || keyBad) return;
  try {
    createSecureContext({ cert, key });
  } catch (error) {
    reader.problem('TLS_KEY_FILE', `${reader.string('TLS_KEY_FILE')} is not the private key of the certificate in ${reader.string('TLS_CERT_FILE')} (${opensslReason(error)}); give the key the certificate was issued for`);
  }
}

/** The part of an OpenSSL error that says what is wrong, e.g. "key values mismatch", without the error code. */
function opensslReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/^error:[0-9A-Fa-f]+:/, '').slice(0, 120);
}

/** The file sink for `--output FILE`; a path that cannot be opened for appending is a configuration error. */
export async function openOutputFile(path: string, log: NonNullable<JsonLinesOptions['log']>): Promise<Sink> {
  try {
    return await createFileSink(path, { log });
  } catch (error) {
    throw new ConfigError([`--output (OUTPUTS): ${(error as Error).message.replace(/; check .*$/, '')}; check the directory exists and is writable, or give another path`]);
  }
}

/**
 * Why a server could not listen, as a configuration error naming --host or the port's setting (`--port (LISTEN_PORT)`,
 * `--metrics-port (METRICS_PORT)`); other errors pass unchanged.
 */
export function listenProblem(error: unknown, portSetting: string, host: string, port: number): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  const where = `${host}:${port}`;
  switch (code) {
    case 'EADDRINUSE':
      return new ConfigError([`${portSetting}: ${where} is already in use (EADDRINUSE); stop the process listening there or choose another port`]);
    case 'EACCES':
      return new ConfigError([`${portSetting}: not allowed to listen on ${where} (EACCES); ports below 1024 need root or CAP_NET_BIND_SERVICE, so choose a port above 1023`]);
    case 'EADDRNOTAVAIL':
      return new ConfigError([`--host (LISTEN_HOST): ${host} is not an address of this machine (EADDRNOTAVAIL); give one of its addresses, or 0.0.0.0 for all of them`]);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ConfigError([`--host (LISTEN_HOST): ${host} cannot be resolved (${code}); give an IP address or a name this machine resolves`]);
    default:
      return error;
  }
}
