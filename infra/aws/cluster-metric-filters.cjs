// With LOG_GROUP_NAME /aws/eks/{cluster}/cluster: every metric filter on CLUSTER_NAME's group (the 401/403 one and the
// generated detections') once more on each other cluster's group, publishing the same metric, so the existing alarms
// see every cluster's events; the saved query each alarm names reads all the groups and shows which cluster it was.
// None on INFREQUENT_ACCESS groups, which take no metric filters.
'use strict';

module.exports = async ({ resolveVariable }) => {
  const { auditLogGroups, logGroup, metricFilters } = await resolveVariable('self:custom.relay');
  const others = Object.entries(auditLogGroups).filter(([id]) => id !== 'AuditLogGroup');
  if (metricFilters === 'none' || others.length === 0) return { Resources: {} };
  const filters = [];
  for (const file of [`auth-failure-alarm-${metricFilters}.yml`, `detection-alarms-${metricFilters}.yml`]) {
    const resources = await resolveVariable(`file(infra/aws/${file}):Resources`);
    filters.push(...Object.entries(resources).filter(([, resource]) => resource.Type === 'AWS::Logs::MetricFilter'));
  }
  // A created group by Ref, so CloudFormation makes it before its filters; an adopted one by name.
  const group = (id, name) => (logGroup === 'create' ? { Ref: id } : name);
  return {
    Resources: Object.fromEntries(
      others.flatMap(([groupId, name]) =>
        filters.map(([id, filter]) => [`${id}${groupId.slice('AuditLogGroup'.length)}`, { ...filter, Properties: { ...filter.Properties, LogGroupName: group(groupId, name) } }]),
      ),
    ),
  };
};
