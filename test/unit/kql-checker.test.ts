import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FUNCTION_APP_LOGS_TABLE, KUBE_AUDIT_TABLE, kqlErrors, kqlResultColumns } from '../support/kql.ts';

// The template test trusts kqlErrors to reject broken queries; these show that it does, for each kind of mistake.
describe('KQL checker (Kusto language service against the tables the template ships)', () => {
  const sound = 'KubeAudit_CL\n| where toint(ResponseStatus.code) in (401, 403)\n| summarize Denied = count() by User = tostring(User.username), bin(TimeGenerated, 5m)';

  it('accepts a sound query over the audit table', () => {
    assert.deepEqual(kqlErrors(sound, [KUBE_AUDIT_TABLE]), []);
  });

  it('rejects a column the table does not have, naming it', () => {
    const errors = kqlErrors(sound.replace('ResponseStatus.code', 'ResponseStatusCode'), [KUBE_AUDIT_TABLE]);
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, /^KS142 The name 'ResponseStatusCode' does not refer to any known column/);
  });

  it('rejects a syntax error', () => {
    assert.notDeepEqual(kqlErrors(sound.replace('in (401, 403)', 'in (401, 403'), [KUBE_AUDIT_TABLE]), []);
    assert.notDeepEqual(kqlErrors(`${sound}\n| summarize by`, [KUBE_AUDIT_TABLE]), []);
  });

  it('rejects a table that is not in the workspace, and a column of another table', () => {
    assert.match(kqlErrors('AKSAudit | take 1', [KUBE_AUDIT_TABLE]).join(), /AKSAudit/);
    assert.match(kqlErrors('FunctionAppLogs | where Verb == "get"', [FUNCTION_APP_LOGS_TABLE]).join(), /'Verb'/);
  });

  it('rejects a function called with the wrong arguments', () => {
    assert.notDeepEqual(kqlErrors('KubeAudit_CL | summarize count() by bin(TimeGenerated)', [KUBE_AUDIT_TABLE]), []);
  });

  it('infers the result columns an alert rule can split by', () => {
    assert.deepEqual(kqlResultColumns('KubeAudit_CL | summarize Denied = count() by Cluster, Code = toint(ResponseStatus.code)', [KUBE_AUDIT_TABLE]), ['Cluster', 'Code', 'Denied']);
  });
});
