// LOG_GROUP=create with LOG_GROUP_NAME /aws/eks/{cluster}/cluster: the audit group of every cluster in CLUSTERS besides
// CLUSTER_NAME's (log-group-create.yml's AuditLogGroup), each a copy of that one under its own name: same retention,
// class, key, deletion protection and field indexes, kept when the stack goes. The Lambda creates no group (its role
// may not, and a group it made would have no key or retention), so a cluster missing here fails its batches.
'use strict';

module.exports = async ({ resolveVariable }) => {
  const { auditLogGroups, logGroup } = await resolveVariable('self:custom.relay');
  const others = Object.entries(auditLogGroups).filter(([id]) => id !== 'AuditLogGroup');
  if (logGroup !== 'create' || others.length === 0) return { Resources: {} };
  const { AuditLogGroup: template } = await resolveVariable('file(infra/aws/log-group-create.yml):resources.Resources');
  return {
    Resources: Object.fromEntries(others.map(([id, name]) => [id, { ...template, Properties: { ...template.Properties, LogGroupName: name } }])),
  };
};
