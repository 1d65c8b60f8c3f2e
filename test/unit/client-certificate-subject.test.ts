// serve reads a client certificate's subject from its own TLS handshake, the Azure Function from the certificate
// App Service forwards in X-ARR-ClientCert: one parser, so both find the same CN and O in the same certificate.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { connect, createServer, type TLSSocket } from 'node:tls';
import { after, test } from 'node:test';
import { verifiedClientCertificate } from '../../functions/azure/client-certificate.ts';
import { clientCertificateSubject } from '../../src/client-certificate-subject.ts';
import { createTestPki } from '../support/tls.ts';

const pki = createTestPki();
after(() => rmSync(pki.dir, { recursive: true, force: true }));

/** The subject serve sees: the peer certificate of a real mutual-TLS handshake on loopback. */
async function subjectOverTls(cert: string, key: string): Promise<ReturnType<typeof clientCertificateSubject>> {
  const server = createServer({ cert: pki.read(pki.serverCert), key: pki.read(pki.serverKey), ca: pki.read(pki.caCert), requestCert: true, rejectUnauthorized: true });
  const accepted = once(server, 'secureConnection') as Promise<[TLSSocket]>;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const client = connect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, ca: pki.read(pki.caCert), servername: 'localhost', cert: pki.read(cert), key: pki.read(key) });
  try {
    const [socket] = await accepted;
    assert.equal(socket.authorized, true);
    return clientCertificateSubject(socket.getPeerCertificate().subject);
  } finally {
    client.destroy();
    server.close();
  }
}

test('serve and the Azure Function read the same CN and O from a client certificate', async () => {
  for (const [name, subject, expected] of [
    ['one', '/CN=prod-eu/O=system:masters', { CN: 'prod-eu', O: ['system:masters'] }],
    ['several', '/CN=prod-eu/CN=second/O=fleet-a/O=fleet-b', { CN: 'prod-eu', O: ['fleet-a', 'fleet-b'] }],
    ['no-cn', '/O=fleet-a', { O: ['fleet-a'] }],
    ['no-o', '/CN=kube-apiserver-audit', { CN: 'kube-apiserver-audit' }],
    // X509Certificate.subject escapes these (`O=acme\\, \\"HQ\\"`); the handshake's subject does not.
    ['escaped', '/CN=prod-eu/O=acme, "HQ"', { CN: 'prod-eu', O: ['acme, "HQ"'] }],
  ] as const) {
    const { cert, key } = pki.issueClient(name, subject);
    const forwarded = new X509Certificate(pki.read(cert)).raw.toString('base64');
    assert.deepEqual(verifiedClientCertificate(forwarded, [new X509Certificate(pki.read(pki.caCert))]), expected, `${subject} from X-ARR-ClientCert`);
    assert.deepEqual(await subjectOverTls(cert, key), expected, `${subject} from the handshake`);
  }
});
