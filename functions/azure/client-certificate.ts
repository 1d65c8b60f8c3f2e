// Client certificates on Azure Functions: TLS ends at the App Service front end, which (with client certificates
// enabled on the app) asks the caller for one and forwards it in X-ARR-ClientCert, base64 DER, without checking who
// issued it. So the relay checks it here against CLIENT_CA_PEM. The header is the front end's, not the sender's: the
// relay trusts it only because every request reaches the app through that front end (docs/fleet.md says what that
// takes).
import { X509Certificate } from 'node:crypto';
import { clientCertificateSubject, type ClientCertificateSubject, RequestError } from '../../src/index.ts';

/** The header App Service's front end puts the caller's certificate in (lower case, as the handler sees headers). */
export const CLIENT_CERT_HEADER = 'x-arr-clientcert';

/** Parses CLIENT_CA_PEM into its certificates; throws with what is wrong (never the content) when it holds none or a bad one. */
export function readCertificateAuthorities(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new Error('holds no PEM certificate (-----BEGIN CERTIFICATE-----)');
  return blocks.map((block, index) => {
    try {
      return new X509Certificate(block);
    } catch {
      throw new Error(`certificate ${index + 1} is not a valid X.509 certificate`);
    }
  });
}

/**
 * The subject (CN, O) of the certificate the front end forwarded, once it is shown to be issued and signed by one of
 * `authorities` and valid now; a 401 RequestError otherwise, which the API server retries like any refusal.
 */
export function verifiedClientCertificate(header: string | undefined, authorities: readonly X509Certificate[], now = Date.now()): ClientCertificateSubject {
  if (header === undefined || header.trim() === '') {
    throw new RequestError(
      401,
      'no client certificate: POSTs need one signed by the CA in CLIENT_CA_PEM (client-certificate in the webhook kubeconfig), and the app must require client certificates (clientCertEnabled, clientCertMode Required); nothing was written',
    );
  }
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(Buffer.from(header, 'base64'));
  } catch {
    throw new RequestError(401, `client certificate not accepted (the ${CLIENT_CERT_HEADER} header is not a base64 DER certificate); nothing was written`);
  }
  const issuer = authorities.find((authority) => certificate.checkIssued(authority) && certificate.verify(authority.publicKey));
  if (issuer === undefined) {
    throw new RequestError(401, 'client certificate not accepted (not signed by a CA in CLIENT_CA_PEM): issue it from that CA, or add its CA to CLIENT_CA_PEM; nothing was written');
  }
  if (now < Date.parse(certificate.validFrom) || now > Date.parse(certificate.validTo)) {
    throw new RequestError(401, 'client certificate not accepted (expired or not yet valid): issue a new one for the API server; nothing was written');
  }
  return clientCertificateSubject(certificate.toLegacyObject().subject);
}
