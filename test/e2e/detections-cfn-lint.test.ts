import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parse } from 'yaml';

const run = promisify(execFile);
const available = (() => {
  try {
    execFileSync('cfn-lint', ['--version'], { stdio: 'ignore', timeout: 60_000 });
    return true;
  } catch {
    return false;
  }
})();

/**
 * `${param:LOG_GROUP_NAME}` becomes the template parameter LOGGROUPNAME (CloudFormation names are alphanumeric), so
 * cfn-lint sees what CloudFormation will after serverless substitutes it, not literal values.
 */
function withParameters(value: unknown, names: Set<string>): unknown {
  const parameter = (name: string) => {
    names.add(name.replaceAll('_', ''));
    return name.replaceAll('_', '');
  };
  if (typeof value === 'string') {
    const whole = /^\$\{param:([A-Z_]+)\}$/.exec(value);
    if (whole) return { Ref: parameter(whole[1]!) };
    if (!value.includes('${param:')) return value;
    return { 'Fn::Sub': value.replace(/\$\{param:([A-Z_]+)\}/g, (_, name: string) => `\${${parameter(name)}}`) };
  }
  if (Array.isArray(value)) return value.map((item) => withParameters(item, names));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, withParameters(item, names)]));
  return value;
}

describe('infra/aws/detections.yml under cfn-lint', { skip: available ? false : 'cfn-lint is not on PATH (pip install cfn-lint)' }, () => {
  it('has no error or warning, with the audit log group (and its field index policy) beside it', { timeout: 180_000 }, async () => {
    const names = new Set<string>();
    const detections = withParameters(parse(readFileSync(new URL('../../infra/aws/detections.yml', import.meta.url), 'utf8')), names) as { Conditions: object; Resources: object };
    const template = {
      AWSTemplateFormatVersion: '2010-09-09',
      Parameters: Object.fromEntries([...names].map((name) => [name, { Type: 'String' }])),
      Conditions: detections.Conditions,
      Resources: {
        ...detections.Resources,
        // Stands in for infra/aws/log-group.yml's group, with the FieldIndexPolicies the report asks to add there.
        AuditLogGroup: {
          Type: 'AWS::Logs::LogGroup',
          DeletionPolicy: 'Retain',
          UpdateReplacePolicy: 'Retain',
          Properties: {
            LogGroupName: '/kube-audit-relay/test',
            RetentionInDays: 90,
            FieldIndexPolicies: [{ Fields: ['auditID', 'user.username', 'verb', 'objectRef.resource', 'objectRef.namespace', 'objectRef.name', 'responseStatus.code'] }],
          },
        },
      },
    };
    const dir = mkdtempSync(join(tmpdir(), 'kar-cfn-'));
    try {
      const file = join(dir, 'detections.json');
      writeFileSync(file, JSON.stringify(template, null, 2));
      const result = await run('cfn-lint', ['--format', 'parseable', file], { timeout: 170_000 }).then(
        (out) => ({ code: 0, output: out.stdout + out.stderr }),
        (error: { code?: number; stdout?: string; stderr?: string }) => ({ code: error.code ?? -1, output: `${error.stdout ?? ''}${error.stderr ?? ''}` }),
      );
      assert.equal(result.output.trim(), '');
      assert.equal(result.code, 0);
      assert.ok(names.has('CLUSTERNAME') && names.has('ALARMTOPICARN'), 'the template uses the stack parameters');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
