import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseOutputUri } from '../../src/sinks/output-uri.ts';

describe('output URIs', () => {
  it('parses every kind of destination', () => {
    assert.deepEqual(parseOutputUri('-'), { kind: 'stdout' });
    assert.deepEqual(parseOutputUri('/var/log/audit.log'), { kind: 'file', path: '/var/log/audit.log' });
    assert.deepEqual(parseOutputUri('audit.log'), { kind: 'file', path: 'audit.log' });
    assert.deepEqual(parseOutputUri('file:///var/log/a%20b.log'), { kind: 'file', path: '/var/log/a b.log' });
    // serve's per-cluster files: the template reaches the sink with its {cluster} intact, however it was written.
    assert.deepEqual(parseOutputUri('audit-{cluster}.jsonl'), { kind: 'file', path: 'audit-{cluster}.jsonl' });
    assert.deepEqual(parseOutputUri('file:///var/log/audit-{cluster}.jsonl'), { kind: 'file', path: '/var/log/audit-{cluster}.jsonl' });
    assert.deepEqual(parseOutputUri('cloudwatch:///aws/eks/prod/cluster'), { kind: 'cloudwatch', logGroupName: '/aws/eks/prod/cluster' });
    assert.deepEqual(parseOutputUri(`azure-monitor://dce.westeurope-1.ingest.monitor.azure.com/dcr-${'0a'.repeat(16)}/Custom-KubeAudit`), {
      kind: 'azure-monitor',
      endpoint: 'https://dce.westeurope-1.ingest.monitor.azure.com',
      ruleId: `dcr-${'0a'.repeat(16)}`,
      streamName: 'Custom-KubeAudit',
    });
    assert.deepEqual(parseOutputUri('s3://audit-archive/k8s/prod/'), { kind: 's3', bucket: 'audit-archive', prefix: 'k8s/prod/' });
    assert.deepEqual(parseOutputUri('s3://audit-archive/k8s'), { kind: 's3', bucket: 'audit-archive', prefix: 'k8s/' });
    assert.deepEqual(parseOutputUri('s3://audit-archive'), { kind: 's3', bucket: 'audit-archive', prefix: '' });
    assert.deepEqual(parseOutputUri('https://acct01.blob.core.windows.net/audit/aks/?sv=2024&sig=x'), {
      kind: 'azure-blob',
      containerUrl: 'https://acct01.blob.core.windows.net/audit?sv=2024&sig=x',
      account: 'acct01',
      prefix: 'aks/',
    });
    assert.deepEqual(parseOutputUri('azure-blob+http://127.0.0.1:10000/devstoreaccount1/audit'), {
      kind: 'azure-blob',
      containerUrl: 'http://127.0.0.1:10000/devstoreaccount1/audit',
      account: 'devstoreaccount1',
      prefix: '',
    });
    const forward = parseOutputUri('https://falco.security.svc:9765/k8s-audit');
    assert.equal(forward.kind, 'http');
    assert.equal(forward.kind === 'http' && forward.url.href, 'https://falco.security.svc:9765/k8s-audit');
  });

  it('refuses what cannot work, saying what is expected', () => {
    assert.throws(() => parseOutputUri('s3://A_Bucket/'), /^Error: s3:\/\/<bucket>\/<prefix>\/: the bucket name must be/);
    assert.throws(() => parseOutputUri('azure-monitor://dce.example/dcr-1/KubeAudit'), /azure-monitor:\/\/<ingestion endpoint host>\/<rule immutable id>\/<stream> expected/);
    assert.throws(() => parseOutputUri('cloudwatch://'), /the log group must be 1 to 512/);
    assert.throws(() => parseOutputUri('http://acct01.blob.core.windows.net/audit'), /https:\/\/<account>\.blob\.core\.windows\.net/);
    assert.throws(() => parseOutputUri('kafka://broker:9092/audit'), /^Error: unknown scheme kafka:\/\/; use -, a path/);
  });
});
