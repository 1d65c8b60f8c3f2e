// Every --param checked once, at package time, and the choices the templates make from them. A value CloudFormation or
// a service would refuse mid-deploy (a /33 CIDR, a retention CloudWatch does not offer, a cluster name the KMS alias
// cannot hold) fails `serverless package` here instead, with every problem at once, each naming its parameter and the
// allowed form. serverless.yml holds the result as custom.relay; the templates read checked values and choices from
// it, so no constant condition (Fn::If on two fixed strings) reaches CloudFormation.
'use strict';

const { isIPv4, isIPv6 } = require('node:net');
const { archiveChoices } = require('./archive-parameters.cjs');
const { checkTierParameters } = require('./tier-parameters.cjs');

/** CloudWatch Logs' RetentionInDays values (AWS::Logs::LogGroup). */
const RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[a-zA-Z0-9-]+$/;
const SNS_TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}$/;
/** The audit event fields investigations filter on (docs/detections.md, "Investigation"), indexed on the created group. */
/** CLUSTER_NAME's and each CLUSTERS entry's form: it goes into the KMS alias, log group, query and metric names. */
const CLUSTER_NAME = /^[A-Za-z0-9_-]{1,100}$/;
const CLUSTER_NAME_FORM = '1 to 100 letters, digits, _ or - (it goes into the KMS alias, log group, query and metric names), e.g. payments-eu1';
const INDEXED_FIELDS = ['auditID', 'user.username', 'verb', 'objectRef.resource', 'objectRef.namespace', 'objectRef.name', 'responseStatus.code'];

const list = (value) =>
  String(value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');

/** A cluster name as a logical id part: `checkout-eu1` -> `CheckoutEu1`. */
const pascal = (cluster) => cluster.split(/[-_]/).map((part) => part.charAt(0).toUpperCase() + part.slice(1)).join('');

/**
 * The logical id of one resource per cluster: CLUSTER_NAME's keeps the id deployed stacks already have (`<prefix><suffix>`,
 * so an update does not replace it), the others `<prefix><Name><suffix>` with _ and - dropped (clashes are refused
 * once, by clusterIdClashes).
 */
const clusterIds = (clusters, clusterName, [prefix, suffix]) =>
  Object.fromEntries(clusters.map((cluster) => [cluster === clusterName ? `${prefix}${suffix}` : `${prefix}${pascal(cluster)}${suffix}`, cluster]));

/** Clusters other than CLUSTER_NAME whose resources would share logical ids (checkout-eu1 and checkout_eu1). */
function clusterIdClashes(clusters, clusterName) {
  const seen = new Map();
  const problems = [];
  for (const cluster of clusters.filter((name) => name !== clusterName)) {
    const id = `AuditStopped${pascal(cluster)}Alarm`;
    if (seen.has(id)) problems.push(`CLUSTERS entries ${JSON.stringify(seen.get(id))} and ${JSON.stringify(cluster)} would share the alarm ${id}; rename one of the clusters`);
    else seen.set(id, cluster);
  }
  return problems;
}

/** An IPv4 or IPv6 CIDR with a prefix length the address family allows. */
function isCidr(text) {
  const [address, prefix, ...rest] = text.split('/');
  if (rest.length > 0 || prefix === undefined || !/^\d{1,3}$/.test(prefix)) return false;
  if (isIPv4(address)) return Number(prefix) <= 32;
  return isIPv6(address) && Number(prefix) <= 128;
}

module.exports = async ({ resolveVariable }) => {
  const problems = [];
  const param = async (name) => {
    const value = await resolveVariable(`param:${name}, null`);
    return value === null || value === undefined ? undefined : String(value).trim();
  };
  const oneOf = async (name, allowed) => {
    const value = await param(name);
    if (!allowed.includes(value)) problems.push(`${name} ${JSON.stringify(value ?? '')} must be one of ${allowed.join(', ')}`);
    return value;
  };
  const integer = async (name, min, max) => {
    const text = await param(name);
    const value = Number(text);
    if (!/^\d+$/.test(text ?? '') || value < min || value > max) problems.push(`${name} ${JSON.stringify(text ?? '')} must be a whole number from ${min} to ${max}`);
    return value;
  };
  const retention = async (name) => {
    const text = await param(name);
    if (!/^\d+$/.test(text ?? '') || !RETENTION_DAYS.includes(Number(text))) {
      problems.push(`${name} ${text ?? '""'} is not a retention CloudWatch Logs offers; use one of ${RETENTION_DAYS.join(', ')}`);
    }
  };
  const matching = async (name, pattern, form) => {
    const value = await param(name);
    if (!pattern.test(value ?? '')) problems.push(`${name} ${JSON.stringify(value ?? '')} must be ${form}`);
    return value;
  };
  const ids = async (name, pattern, example, required) => {
    const values = list(await param(name));
    if (values.length === 0 && required) problems.push(`${name} is required ${required}: give ids like ${example}, comma-separated`);
    for (const id of values.filter((id) => !pattern.test(id))) problems.push(`${name} entry ${JSON.stringify(id)} is not an id like ${example}`);
    return values;
  };

  const clusterName = await matching('CLUSTER_NAME', CLUSTER_NAME, CLUSTER_NAME_FORM);
  const clusters = [...new Set(list(await param('CLUSTERS')))];
  if (clusters.length === 0) problems.push('CLUSTERS is required: give the names of the clusters that send to this relay, comma-separated, e.g. payments-eu1,payments-us1');
  for (const cluster of clusters.filter((name) => !CLUSTER_NAME.test(name))) problems.push(`CLUSTERS entry ${JSON.stringify(cluster)} must be ${CLUSTER_NAME_FORM}`);
  const logGroupName = (await param('LOG_GROUP_NAME')) ?? '';
  // {cluster} becomes any cluster a token line names, up to 253 characters: the function's own bound
  // (functions/aws/config.ts), so a name it would refuse at its first batch is refused here instead.
  if (!/^[\w\-/.#]{1,512}$/.test(logGroupName.replaceAll('{cluster}', 'c'.repeat(253)))) {
    problems.push(`LOG_GROUP_NAME ${JSON.stringify(logGroupName)} must be 1 to 512 letters, digits or any of _ - / . # (at most 259 besides a {cluster}), e.g. /aws/eks/payments/cluster or /aws/eks/{cluster}/cluster`);
  }
  const perClusterGroups = logGroupName.includes('{cluster}');
  const logStreamPrefix = await param('LOG_STREAM_PREFIX');
  if ((logStreamPrefix ?? '').length > 226 || /[:*]/.test(logStreamPrefix ?? '')) {
    problems.push('LOG_STREAM_PREFIX must be at most 226 characters without : or * (the cluster, a dash and 32 hex digits follow it)');
  }
  await retention('LOG_RETENTION_DAYS');
  await retention('FUNCTION_LOG_RETENTION_DAYS');
  const logGroupClass = await oneOf('LOG_GROUP_CLASS', ['STANDARD', 'INFREQUENT_ACCESS']);
  const logGroup = await oneOf('LOG_GROUP', ['create', 'existing']);
  await oneOf('LOG_GROUP_DELETION_PROTECTION', ['true', 'false']);
  const kmsKeyArn = await param('KMS_KEY_ARN');
  if (kmsKeyArn !== 'create' && !KMS_KEY_ARN.test(kmsKeyArn ?? '')) {
    problems.push(`KMS_KEY_ARN ${JSON.stringify(kmsKeyArn ?? '')} must be create or a key ARN like arn:aws:kms:eu-west-1:111122223333:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0`);
  }
  const coldLogGroup = await oneOf('COLD_LOG_GROUP', ['none', 'create']);
  const coldLogGroupName = await param('COLD_LOG_GROUP_NAME');
  const tiers = await param('TIERS');
  const tiersPreset = await param('TIERS_PRESET');
  if (coldLogGroup === 'create') {
    if (!/^[\w\-/.#]{1,512}$/.test(coldLogGroupName ?? '') || coldLogGroupName === logGroupName) {
      problems.push(`COLD_LOG_GROUP_NAME ${JSON.stringify(coldLogGroupName ?? '')} must be 1 to 512 letters, digits or any of _ - / . #, and not LOG_GROUP_NAME`);
    }
    if (logGroup !== 'create') problems.push('COLD_LOG_GROUP=create needs LOG_GROUP=create: the cold group takes the audit group\'s key, retention and deletion protection');
  }

  await integer('MAX_EVENT_BYTES', 4096, 1048576);
  await oneOf('REDACT_SECRETS', ['true', 'false']);

  const authMode = await oneOf('AUTH_MODE', ['token', 'none']);
  const authTokenParameter = await matching('AUTH_TOKEN_PARAMETER', /^\/[\w.\-/]{1,1010}$/, 'a full SSM parameter name starting with /, e.g. /kube-audit-relay/prod/auth-token');
  const tokenKeyArn = await param('AUTH_TOKEN_KMS_KEY_ARN');
  if (tokenKeyArn !== 'aws-managed' && !KMS_KEY_ARN.test(tokenKeyArn ?? '')) {
    problems.push(`AUTH_TOKEN_KMS_KEY_ARN ${JSON.stringify(tokenKeyArn ?? '')} must be aws-managed or a key ARN like arn:aws:kms:eu-west-1:111122223333:key/1c2d3e4f-5061-7283-94a5-b6c7d8e9f0a1`);
  }

  const vpcEndpoint = await oneOf('VPC_ENDPOINT', ['existing', 'create']);
  const lambdaInVpc = await oneOf('LAMBDA_IN_VPC', ['true', 'false']);
  await oneOf('PRIVATE_DNS', ['true', 'false']);
  const vpcEndpointIds = await ids('VPC_ENDPOINT_IDS', /^vpce-[0-9a-f]{8,17}$/, 'vpce-0123456789abcdef0', vpcEndpoint === 'existing' && 'with VPC_ENDPOINT=existing (or pass VPC_ENDPOINT=create)');
  const inVpc = vpcEndpoint === 'create' || lambdaInVpc === 'true';
  const needs = 'with VPC_ENDPOINT=create or LAMBDA_IN_VPC=true';
  if (inVpc) await matching('VPC_ID', /^vpc-[0-9a-f]{8,17}$/, `a VPC id like vpc-0123456789abcdef0 (required ${needs})`);
  const subnetIds = await ids('SUBNET_IDS', /^subnet-[0-9a-f]{8,17}$/, 'subnet-0123456789abcdef0', inVpc && needs);
  const allowedCidrs = list(await param('ALLOWED_CIDRS'));
  if (allowedCidrs.length === 0 && vpcEndpoint === 'create') problems.push('ALLOWED_CIDRS is required with VPC_ENDPOINT=create: give the CIDR(s) the API server connects from, comma-separated, e.g. 10.20.0.0/24');
  for (const cidr of allowedCidrs.filter((cidr) => !isCidr(cidr))) {
    problems.push(`ALLOWED_CIDRS entry ${JSON.stringify(cidr)} is not an IPv4 or IPv6 CIDR; give address/prefix with a prefix of at most 32 (IPv6: 128), e.g. 10.20.0.0/24`);
  }
  const sourceVpcIds = (await param('SOURCE_VPC_IDS')) === 'any' ? [] : await ids('SOURCE_VPC_IDS', /^vpc-[0-9a-f]{8,17}$/, 'vpc-0123456789abcdef0 (or any)');

  await integer('AUTH_FAILURE_THRESHOLD', 0, 1_000_000);
  const auditStoppedMinutes = await integer('AUDIT_STOPPED_MINUTES', 1, 1440);
  const reserved = await param('RESERVED_CONCURRENCY');
  if (reserved !== 'none' && !/^[1-9]\d{0,4}$/.test(reserved ?? '')) {
    problems.push(`RESERVED_CONCURRENCY ${JSON.stringify(reserved ?? '')} must be a whole number from 1 (or none to reserve nothing), e.g. 20`);
  }
  const alarmTopicArn = await param('ALARM_TOPIC_ARN');
  if (alarmTopicArn !== 'none' && !SNS_TOPIC_ARN.test(alarmTopicArn ?? '')) {
    problems.push(`ALARM_TOPIC_ARN ${JSON.stringify(alarmTopicArn ?? '')} must be none or a topic ARN like arn:aws:sns:eu-west-1:111122223333:audit-alarms`);
  }

  problems.push(...clusterIdClashes(clusters, clusterName));
  const silenceAlarms = clusterIds(clusters, clusterName, ['AuditStopped', 'Alarm']);
  // Refusals before the caller is known (a wrong token, an invalid configuration) count under CLUSTER_NAME, so its
  // batch alarms exist even when CLUSTERS leaves it out; a group per cluster exists for it too (tokens naming no cluster).
  const fleet = [...new Set([clusterName, ...clusters])];
  const failedAlarms = clusterIds(fleet, clusterName, ['BatchesFailed', 'Alarm']);
  const refusedAlarms = clusterIds(fleet, clusterName, ['BatchesRefused', 'Alarm']);
  const auditLogGroups = perClusterGroups
    ? Object.fromEntries(Object.entries(clusterIds(fleet, clusterName, ['AuditLogGroup', ''])).map(([id, cluster]) => [id, logGroupName.replaceAll('{cluster}', cluster)]))
    : { AuditLogGroup: logGroupName };
  const logGroupNames = Object.values(auditLogGroups);
  const auditLogKeyArn = logGroup === 'create' && kmsKeyArn === 'create' ? { 'Fn::GetAtt': ['AuditLogKey', 'Arn'] } : KMS_KEY_ARN.test(kmsKeyArn ?? '') ? kmsKeyArn : undefined;
  const archive = await archiveChoices({ param, problems, auditLogKeyArn, lambdaInVpc });
  checkTierParameters({ tiersPreset, tiers, coldLogGroup, archive: archive.archive, problems });

  if (problems.length > 0) {
    const error = new Error(`kube-audit-relay: ${problems.length} parameter(s) refused; fix them with --param NAME=VALUE:\n- ${problems.join('\n- ')}`);
    // The framework prints the stack; this one would only say where the check is, not what to fix.
    error.stack = error.message;
    throw error;
  }
  return {
    /** The function's AUTH_TOKEN_PARAMETER: empty with AUTH_MODE=none, so it neither reads a parameter nor may. */
    authTokenParameter: authMode === 'token' ? authTokenParameter : '',
    /** none, aws-managed-key or customer-key: which token statements the role gets (receive-statements.cjs). */
    tokenAccess: authMode === 'none' ? 'none' : tokenKeyArn === 'aws-managed' ? 'aws-managed-key' : 'customer-key',
    /** create: the stack makes the audit group's key; existing: KMS_KEY_ARN names it, or the group is not the stack's. */
    auditLogKey: logGroup === 'create' && kmsKeyArn === 'create' ? 'create' : 'existing',
    logGroup,
    /**
     * metric-filter or none: whether the 401/403 alarm (auth-failure-alarm-*.yml) and the detection alarms
     * (detection-alarms-*.yml) are included; metric filters exist only on STANDARD groups.
     */
    metricFilters: logGroupClass === 'STANDARD' ? 'metric-filter' : 'none',
    /** The created group's FieldIndexPolicies; only STANDARD groups support field index policies. */
    fieldIndexPolicies: logGroupClass === 'STANDARD' ? [{ Fields: INDEXED_FIELDS }] : [],
    /** create or none: the Infrequent Access group for the cold tier (cold-log-group-*.yml). */
    coldLogGroup,
    /** The function's COLD_LOG_GROUP_NAME: empty without a cold group. */
    coldLogGroupName: coldLogGroup === 'create' ? coldLogGroupName : '',
    /** The function's TIERS_PRESET: empty for none. */
    tiersPreset: tiersPreset === 'none' ? '' : tiersPreset,
    /**
     * The audit group of each cluster with LOG_GROUP_NAME /aws/eks/{cluster}/cluster (logical id -> name, CLUSTER_NAME's
     * AuditLogGroup, the others AuditLogGroup<Name>), else { AuditLogGroup: LOG_GROUP_NAME }.
     */
    auditLogGroups,
    /** Every audit group's name: what the saved queries, the dashboard and the role name. */
    logGroupNames,
    /** CLUSTER_NAME's audit group: the one the metric filters watch and the stack outputs. */
    logGroupName: logGroupNames[0],
    /** The group(s) a created key may encrypt (its policy's kms:EncryptionContext:aws:logs:arn): one, or a list (clusters, cold group). */
    encryptedGroupArns: ((arns) => (arns.length === 1 ? arns[0] : arns))(
      [...logGroupNames, ...(coldLogGroup === 'create' ? [coldLogGroupName] : [])].map((name) => ({
        'Fn::Sub': `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:${name}`,
      })),
    ),
    alarmActions: alarmTopicArn === 'none' ? [] : [alarmTopicArn],
    auditStoppedMinutes,
    /** Each audit-stopped alarm's logical id -> the cluster it watches (silence-alarms.cjs), one per CLUSTERS entry. */
    silenceAlarms,
    /** The archive bucket's settings (archive-parameters.cjs): `archive` is none, create or existing. */
    archive,
    /** The function's OUTPUTS: the archive's s3:// URI, so every event is archived as a guaranteed output; else empty. */
    outputs: archive.archive === 'none' ? '' : archive.archive === 'existing' ? `s3://${archive.bucket}/${archive.prefix}` : { 'Fn::Sub': `s3://\${ArchiveBucket}/${archive.prefix}` },
    /** The clusters Athena's partition projection enumerates (archive-athena.cjs). */
    clusters,
    /** The BatchesFailed and BatchesRefused alarms' logical ids -> their cluster (batch-alarms.cjs): CLUSTERS and CLUSTER_NAME. */
    failedAlarms,
    refusedAlarms,
    reservedConcurrency: reserved === 'none' ? null : Number(reserved),
    vpcEndpointIds,
    subnetIds,
    allowedCidrs,
    sourceVpcIds,
  };
};
