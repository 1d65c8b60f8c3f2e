import type { ClientCertificateSubject } from './pipeline.ts';

/**
 * A certificate subject as Node gives it: `TLSSocket.getPeerCertificate().subject`, or
 * `X509Certificate.toLegacyObject().subject`. An attribute given more than once is an array.
 */
type SubjectAttributes = Readonly<Partial<Record<string, string | readonly string[]>>>;

/** The parts of a verified certificate's subject that can name a cluster: the first CN and every O. */
export function clientCertificateSubject(subject: SubjectAttributes): ClientCertificateSubject {
  const commonName = ([] as string[]).concat(subject.CN ?? [])[0];
  const organizations = ([] as string[]).concat(subject.O ?? []);
  return { ...(commonName ? { CN: commonName } : {}), ...(organizations.length > 0 ? { O: organizations } : {}) };
}
