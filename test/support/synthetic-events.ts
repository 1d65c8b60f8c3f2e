// Audit events made up in the test, not taken from the fixture corpus: distinct, valid audit.k8s.io/v1 events of a
// chosen size, for tests that need many bytes rather than realistic content.
import { randomUUID } from 'node:crypto';

/**
 * `count` distinct Metadata-level events as JSON lines, each exactly `bytes` UTF-8 bytes long (padded in the
 * userAgent), with fresh auditIDs and timestamps of now.
 */
export function syntheticEvents(count: number, bytes = 1_000): string[] {
  const time = new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
  return Array.from({ length: count }, (_, index) => {
    const head = `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"${randomUUID()}","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/configmaps/cm-${index}","verb":"get","user":{"username":"system:serviceaccount:default:writer","groups":["system:serviceaccounts","system:authenticated"]},"sourceIPs":["10.0.0.${index % 250}"],"objectRef":{"resource":"configmaps","namespace":"default","name":"cm-${index}","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":200},"requestReceivedTimestamp":"${time}","stageTimestamp":"${time}","userAgent":"`;
    const tail = '"}';
    const padding = bytes - head.length - tail.length;
    if (padding < 0) throw new Error(`a synthetic event takes at least ${head.length + tail.length} bytes, asked for ${bytes}`);
    return `${head}${'x'.repeat(padding)}${tail}`;
  });
}
