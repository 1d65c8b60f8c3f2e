// `serverless package` offline for every documented variant, packaged once and in parallel: existing endpoints with
// the defaults; created endpoint + Lambda in the VPC with customer managed keys; AUTH_MODE=none with an
// INFREQUENT_ACCESS group and an alarm topic; an adopted log group with the function in the VPC; a fleet with a log
// group per cluster. Then assertions on
// the CloudFormation each writes (private only, resource policy, least privilege, log group, queries, alarms,
// generated detections, dashboard, outputs), cfn-lint on all of them, the relay's published metrics against the alarms, and the
// parameters refused at package time. Four variants have the S3 archive: created with the defaults, created with its
// own key and Object Lock, with the security preset and the cold group, and an existing bucket; the packaged function's
// archive is read back through Athena's partition projection, and the security variant's function stores each tier
// where it belongs. The package-time tier checks are compared with the function's own reader on every combination.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { readLambdaConfig } from '../../functions/aws/config.ts';
import { PRESET_NAMES, PRESETS } from '../../src/tiers/presets.ts';
import { assertProjectionFindsArchive, assertTlsOnly, deployedVariables, tableParameters } from '../support/archive-resources.ts';
import { generatedEvents } from '../support/apiserver-webhook.ts';
import { fixtureLines } from '../support/event-lists.ts';
import { projectedPartition } from '../support/partition-projection.ts';
import { startS3rver } from '../support/server-process.ts';
import { cfnLint, cfnLintMissing } from '../support/cfn-lint.ts';
import { type CloudWatchLogsStandIn, startCloudWatchLogsStandIn } from '../../tools/dev/cloudwatch-logs-standin.ts';
import { eventList } from '../support/http-client.ts';
import { captureOutput, coldStart, lambdaContext, type OutputLine, type ProxyHandler, proxyEvent } from '../support/lambda.ts';
import { assertDetections } from '../support/detection-resources.ts';
import { useEnvironment } from '../support/lambda-environment.ts';
import { Fixture, fixtureFile } from '../support/records.ts';
import { packageService, type PackagedService, runServerless, type Template } from '../support/serverless.ts';
import { startSsmStandIn } from '../support/ssm-standin.ts';
import { securitySample } from '../support/tier-events.ts';
import { auditIDsInBucket, auditIDsInGroup } from '../support/tier-stores.ts';
import { alarmMetrics, arnText, identityStatements, list, metricIdentity, ofType, only, type Statement } from '../support/template.ts';

const EXISTING_ENDPOINTS = 'vpce-0a1b2c3d4e5f60718,vpce-0f1e2d3c4b5a69788';
const CREATED = {
  VPC_ENDPOINT: 'create',
  LAMBDA_IN_VPC: 'true',
  VPC_ID: 'vpc-0123456789abcdef0',
  SUBNET_IDS: 'subnet-0aaa1111bbbb2222c,subnet-0ddd3333eeee4444f',
  ALLOWED_CIDRS: '10.20.0.0/16,10.30.1.0/24,fd00:20::/56',
  PRIVATE_DNS: 'true',
  SOURCE_VPC_IDS: 'vpc-0123456789abcdef0',
  CLUSTER_NAME: 'payments',
  LOG_GROUP_NAME: '/aws/eks/payments/cluster',
  KMS_KEY_ARN: 'arn:aws:kms:eu-west-1:111122223333:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0',
  AUTH_TOKEN_KMS_KEY_ARN: 'arn:aws:kms:eu-west-1:111122223333:key/1c2d3e4f-5061-7283-94a5-b6c7d8e9f0a1',
};
const ALARM_TOPIC_ARN = 'arn:aws:sns:eu-west-1:111122223333:audit-alarms';
/** A fleet of two clusters, CLUSTER_NAME's listed twice: one audit-stopped alarm each, none repeated. */
const FLEET = 'payments, checkout-eu1,payments';
/** The fields investigations filter on, indexed on created STANDARD groups. */
const INDEXED_FIELDS = ['auditID', 'user.username', 'verb', 'objectRef.resource', 'objectRef.namespace', 'objectRef.name', 'responseStatus.code'];

/** The archive variants' bucket (created with that name, or existing) and a customer managed key for an existing one. */
const ARCHIVE_BUCKET = 'payments-audit-archive';
const ARCHIVE_KEY_ARN = 'arn:aws:kms:eu-west-1:111122223333:key/2d3e4f50-6172-8394-a5b6-c7d8e9f0a1b2';
/** What the created bucket of the variant that lets CloudFormation name it is called in these tests. */
const GENERATED_BUCKET = 'open-archivebucket-1a2b3c4d5e6f';

/** A tiers file for the variant with a cold group and an archive: changes hot, the rest cold, every event archived too. */
const COLD_TIERS = '{default: cold, archive: always, rules: [{tier: hot, verbs: [create, update, patch, delete]}]}';
/** The bucket of the variant with the security preset. */
const TIERED_BUCKET = 'payments-audit-tiers';

/** Every documented variant: stage name -> params. */
const VARIANTS = {
  prod: { VPC_ENDPOINT_IDS: EXISTING_ENDPOINTS },
  staging: { ...CREATED, ALARM_TOPIC_ARN, CLUSTERS: FLEET },
  open: { VPC_ENDPOINT_IDS: EXISTING_ENDPOINTS, AUTH_MODE: 'none', LOG_GROUP_CLASS: 'INFREQUENT_ACCESS', ALARM_TOPIC_ARN, COLD_LOG_GROUP: 'create', TIERS: COLD_TIERS, ARCHIVE: 'create' },
  fleet: { VPC_ENDPOINT_IDS: EXISTING_ENDPOINTS, CLUSTER_NAME: 'payments', CLUSTERS: 'checkout-eu1,search_us2', LOG_GROUP_NAME: '/aws/eks/{cluster}/cluster' },
  adopted: {
    VPC_ENDPOINT_IDS: EXISTING_ENDPOINTS,
    LAMBDA_IN_VPC: 'true',
    VPC_ID: CREATED.VPC_ID,
    SUBNET_IDS: 'subnet-0aaa1111bbbb2222c',
    LOG_GROUP: 'existing',
    RESERVED_CONCURRENCY: 'none',
  },
  locked: {
    VPC_ENDPOINT_IDS: EXISTING_ENDPOINTS,
    AUTH_MODE: 'none',
    CLUSTER_NAME: 'payments',
    CLUSTERS: FLEET,
    ARCHIVE: 'create',
    ARCHIVE_BUCKET_NAME: ARCHIVE_BUCKET,
    ARCHIVE_KMS_KEY_ARN: 'create',
    ARCHIVE_TRANSITION_CLASS: 'STANDARD_IA',
    ARCHIVE_TRANSITION_DAYS: '30',
    ARCHIVE_OBJECT_LOCK_DAYS: '2192',
  },
  tiered: {
    VPC_ENDPOINT_IDS: EXISTING_ENDPOINTS,
    AUTH_MODE: 'none',
    CLUSTER_NAME: 'payments',
    TIERS_PRESET: 'security',
    COLD_LOG_GROUP: 'create',
    ARCHIVE: 'create',
    ARCHIVE_BUCKET_NAME: TIERED_BUCKET,
  },
  archived: {
    VPC_ENDPOINT_IDS: EXISTING_ENDPOINTS,
    CLUSTERS: FLEET,
    CLUSTER_NAME: 'payments',
    ARCHIVE: 'existing',
    ARCHIVE_BUCKET_NAME: ARCHIVE_BUCKET,
    ARCHIVE_PREFIX: 'eks/payments/',
    ARCHIVE_KMS_KEY_ARN: ARCHIVE_KEY_ARN,
    ARCHIVE_EXPIRY_DAYS: '400',
  },
} satisfies Record<string, Record<string, string>>;
type Variant = keyof typeof VARIANTS;

/** Two at a time: the machine has two cores, and each run bundles the function with esbuild. */
async function packageVariants(): Promise<Record<Variant, PackagedService>> {
  const names = Object.keys(VARIANTS) as Variant[];
  const done: Partial<Record<Variant, PackagedService>> = {};
  const worker = async () => {
    for (let name = names.shift(); name !== undefined; name = names.shift()) done[name] = await packageService(name, VARIANTS[name]);
  };
  await Promise.all([worker(), worker()]);
  return done as Record<Variant, PackagedService>;
}

let variants: Record<Variant, PackagedService>;
let packagingSeconds = 0;
before(async () => {
  const started = performance.now();
  variants = await packageVariants();
  packagingSeconds = (performance.now() - started) / 1000;
});

function assertPrivateOnly(template: Template): void {
  const api = only(template, 'AWS::ApiGateway::RestApi');
  assert.deepEqual(api.Properties!.EndpointConfiguration.Types, ['PRIVATE']);
  for (const type of ['AWS::Lambda::Url', 'AWS::ApiGateway::DomainName', 'AWS::ApiGatewayV2::Api', 'AWS::ElasticLoadBalancingV2::LoadBalancer', 'AWS::CloudFront::Distribution', 'AWS::EC2::EIP', 'AWS::EC2::InternetGateway', 'AWS::EC2::NatGateway']) {
    assert.deepEqual(ofType(template, type), [], `${type} must not exist`);
  }
  assert.deepEqual(Object.values(template.Resources).filter((resource) => resource.Type.startsWith('AWS::ApiGatewayV2::')), []);
  for (const [, bucket] of ofType(template, 'AWS::S3::Bucket')) {
    assert.deepEqual(bucket.Properties!.PublicAccessBlockConfiguration, {
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
  }
  for (const [, permission] of ofType(template, 'AWS::Lambda::Permission')) {
    assert.equal(permission.Properties!.Principal, 'apigateway.amazonaws.com');
    assert.equal(permission.Properties!.FunctionUrlAuthType, undefined);
  }
}

function assertResourcePolicy(template: Template, expectedEndpoints: unknown): void {
  const policy = only(template, 'AWS::ApiGateway::RestApi').Properties!.Policy as { Statement: Statement[] };
  assert.ok(policy.Statement.length > 0, 'the resource policy is empty');
  const allow = policy.Statement.filter((statement) => statement.Effect === 'Allow');
  assert.ok(allow.length > 0);
  for (const statement of allow) {
    assert.deepEqual(list(statement.Action), ['execute-api:Invoke']);
    assert.deepEqual(statement.Condition?.StringEquals?.['aws:SourceVpce'], expectedEndpoints, 'every Allow must require the relay endpoint');
  }
  const deny = policy.Statement.find((statement) => statement.Effect === 'Deny');
  assert.deepEqual(deny?.Condition?.StringNotEquals?.['aws:SourceVpce'], expectedEndpoints, 'other endpoints must be denied');
  assert.deepEqual(only(template, 'AWS::ApiGateway::RestApi').Properties!.EndpointConfiguration.VpcEndpointIds, expectedEndpoints);
}

/** No wildcard action, and every resource named (see the exceptions below). */
function assertNamedResources(template: Template): void {
  const statements = identityStatements(template);
  assert.ok(statements.length > 0);
  for (const statement of statements) {
    for (const action of list(statement.Action)) assert.ok(!action.includes('*'), `wildcard action ${action}`);
    const resources = list(statement.Resource).map(arnText);
    const wildcard = resources.includes('*');
    // The one exception: ec2 Describe actions support no resource-level permissions at all.
    if (wildcard) assert.ok(list(statement.Action).every((action) => action.startsWith('ec2:Describe')), `statement ${statement.Sid} has Resource "*"`);
    for (const resource of resources.filter((text) => text !== '*' && !text.startsWith('GetAtt:'))) {
      assert.match(resource, /^arn:/, `statement ${statement.Sid}: ${resource} is not an ARN`);
      // Only the streams of a named group, interfaces not yet created and objects under a named bucket's prefix may be
      // left open.
      const named = resource
        .replace(/:log-stream:\*$/, '')
        .replace(/:network-interface\/\*$/, ':network-interface')
        .replace(/(:s3:::[^/*]+\/(?:[\w.-]+\/)*)\*$/, '$1');
      assert.ok(!named.includes('*'), `statement ${statement.Sid}: ${resource} is not a named resource`);
    }
  }
}

function assertLeastPrivilege(template: Template, { parameterArn, groupName, extraGroups = [] }: { parameterArn: string; groupName: string; extraGroups?: readonly string[] }): void {
  assert.equal(template.Resources.IamRoleLambdaExecution, undefined, "the framework's default role must not be created");
  assertNamedResources(template);
  const statements = identityStatements(template);
  const byAction = (action: string) => statements.filter((statement) => list(statement.Action).includes(action)).flatMap((statement) => list(statement.Resource).map(arnText));
  const groupArns = [groupName, ...extraGroups].map((name) => `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:${name}`);
  assert.deepEqual(byAction('logs:PutLogEvents').sort(), [...groupArns.flatMap((arn) => [arn, `${arn}:log-stream:*`]), 'GetAtt:ReceiveLogGroup.Arn'].sort());
  assert.deepEqual(byAction('ssm:GetParameter'), [parameterArn]);
  const role = only(template, 'AWS::IAM::Role');
  assert.deepEqual(only(template, 'AWS::Lambda::Function').Properties!.Role, { 'Fn::Sub': '${ReceiveRole.Arn}' });
  assert.equal(role.Properties!.AssumeRolePolicyDocument.Statement[0].Principal.Service, 'lambda.amazonaws.com');
}

/** The audit group the stack creates: retention, encryption, deletion protection, kept when the stack goes. */
function assertCreatedGroup(template: Template, groupName: string): void {
  const group = template.Resources.AuditLogGroup!;
  assert.equal(group.Type, 'AWS::Logs::LogGroup');
  assert.equal((group as { DeletionPolicy?: string }).DeletionPolicy, 'Retain');
  assert.equal(group.Properties!.LogGroupName, groupName);
  assert.equal(typeof group.Properties!.RetentionInDays, 'number');
  assert.ok(group.Properties!.KmsKeyId, 'the audit log group must be encrypted with a KMS key');
  assert.equal(group.Properties!.DeletionProtectionEnabled, true);
  assert.deepEqual(group.Properties!.FieldIndexPolicies, [{ Fields: INDEXED_FIELDS }], 'the fields investigations filter on are indexed');
  assert.notEqual(template.Resources.ReceiveLogGroup!.Properties!.LogGroupName, groupName, "the function's own log group is separate");
}

/** Saved queries on the audit group, the 401/403 filter and alarm (STANDARD groups only), and the relay's alarms. */
function assertLogSearch(template: Template, groupName: string, filterGroup: unknown = { Ref: 'AuditLogGroup' }): void {

  const queries = ofType(template, 'AWS::Logs::QueryDefinition').map(([, query]) => query.Properties!);
  const names = queries.map((query) => query.Name as string);
  for (const question of ['rbac', 'secrets', 'exec', 'anonymous', '403', 'kube-system', '5xx', 'configmap', 'active-users']) {
    assert.ok(names.some((name) => name.includes(question)), `no saved query about ${question} in ${names.join(', ')}`);
  }
  for (const query of queries) assert.deepEqual(query.LogGroupNames, [groupName]);

  const filter = template.Resources.AuthFailureMetricFilter!.Properties!;
  assert.deepEqual(filter.LogGroupName, filterGroup);
  assert.match(filter.FilterPattern, /401/);
  assert.match(filter.FilterPattern, /403/);
  const alarms = ofType(template, 'AWS::CloudWatch::Alarm').map(([, alarm]) => alarm.Properties!);
  const metric = filter.MetricTransformations[0];
  assert.ok(alarms.some((alarm) => alarm.Namespace === metric.MetricNamespace && alarm.MetricName === metric.MetricName), 'no alarm on the 401/403 metric');
  for (const name of ['Errors', 'Throttles']) {
    assert.ok(
      alarms.some((alarm) => alarm.Namespace === 'AWS/Lambda' && alarm.MetricName === name && alarm.Dimensions[0].Value.Ref === 'ReceiveLambdaFunction'),
      `no alarm on the function's ${name}`,
    );
  }
}

function assertFunction(template: Template): void {
  const fn = only(template, 'AWS::Lambda::Function').Properties!;
  assert.equal(fn.Runtime, 'nodejs22.x');
  assert.deepEqual(fn.Architectures, ['arm64']);
  assert.ok(fn.Timeout < 29, `timeout ${fn.Timeout} s must stay under API Gateway's 29 s`);
  assert.equal(fn.Handler, 'functions/aws/receive.handler');
}

function invokeUrl(template: Template): { text: string; vpce: unknown } {
  const [text, variables] = (template.Outputs!.PrivateInvokeUrl!.Value as { 'Fn::Sub': [string, { VpcEndpointId: unknown }] })['Fn::Sub'];
  return { text, vpce: variables.VpcEndpointId };
}

describe('serverless package: default parameters', () => {
  let packaged: PackagedService;
  before(() => {
    packaged = variants.prod;
  });

  it('ran offline: nothing tried to open a connection', () => {
    assert.doesNotMatch(packaged.stderr, /deny-network/);
  });

  it('is a private REST API only, with no function URL and no public endpoint', () => {
    assertPrivateOnly(packaged.template);
    assert.deepEqual(ofType(packaged.template, 'AWS::EC2::VPCEndpoint'), [], 'existing endpoints are used, none created');
    assert.equal(only(packaged.template, 'AWS::Lambda::Function').Properties!.VpcConfig, undefined);
  });

  it('allows invoking only through the given VPC endpoints', () => {
    assertResourcePolicy(packaged.template, EXISTING_ENDPOINTS.split(','));
    const policy = only(packaged.template, 'AWS::ApiGateway::RestApi').Properties!.Policy as { Statement: Statement[] };
    assert.equal(policy.Statement.length, 2, 'no source-VPC statement unless SOURCE_VPC_IDS is given');
  });

  it('scopes IAM to the audit group, its own log group and the token parameter', () => {
    assertLeastPrivilege(packaged.template, {
      groupName: '/kube-audit-relay/prod/audit',
      parameterArn: 'arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/kube-audit-relay/prod/auth-token',
    });
    // The aws/ssm key needs no kms:Decrypt grant; the statement exists only for a customer managed key.
    assert.deepEqual(
      identityStatements(packaged.template).filter((statement) => list(statement.Action).includes('kms:Decrypt')),
      [],
    );
  });

  it('creates the KMS key with a policy that lets CloudWatch Logs use it for this group only', () => {
    const key = only(packaged.template, 'AWS::KMS::Key').Properties!;
    const forLogs = (key.KeyPolicy.Statement as Statement[]).find((statement: any) => statement.Principal?.Service?.['Fn::Sub'] === 'logs.${AWS::Region}.amazonaws.com');
    assert.ok(forLogs, 'no key policy statement for CloudWatch Logs');
    assert.deepEqual(forLogs.Condition?.ArnEquals?.['kms:EncryptionContext:aws:logs:arn'], {
      'Fn::Sub': 'arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/kube-audit-relay/prod/audit',
    });
    assert.deepEqual(packaged.template.Resources.AuditLogGroup!.Properties!.KmsKeyId, { 'Fn::GetAtt': ['AuditLogKey', 'Arn'] });
    assert.equal(only(packaged.template, 'AWS::KMS::Alias').Properties!.AliasName, 'alias/kube-audit-relay-prod-prod');
  });

  it('is ready for log search: retention, encryption, deletion protection, saved queries and alarms', () => {
    assertCreatedGroup(packaged.template, '/kube-audit-relay/prod/audit');
    assertLogSearch(packaged.template, '/kube-audit-relay/prod/audit');
    assert.equal(packaged.template.Resources.AuditLogGroup!.Properties!.RetentionInDays, 365);
  });

  it('holds the generated detections: a saved query per rule, a metric filter and alarm per alerting rule', () => {
    assertDetections(packaged.template, { cluster: 'prod', groupName: '/kube-audit-relay/prod/audit', filterGroup: { Ref: 'AuditLogGroup' }, metricFilters: true, alarmActions: [] });
  });

  it('alarms on the relay\'s failed and refused batches, audit stopping, and API Gateway 4XX/5XX', () => {
    const alarms = new Map(alarmMetrics(packaged.template).map((alarm) => [alarm.id, alarm]));
    const relay = { service: 'kube-audit-relay', Cluster: 'prod' };
    assert.equal(alarms.get('BatchesFailedAlarm')?.identity, metricIdentity('KubeAuditRelay', 'BatchesFailed', relay));
    assert.equal(alarms.get('BatchesRefusedAlarm')?.identity, metricIdentity('KubeAuditRelay', 'BatchesRefused', relay));
    const stopped = alarms.get('AuditStoppedAlarm')!;
    assert.equal(stopped.identity, metricIdentity('KubeAuditRelay', 'EventsWritten', relay));
    // 15 one-minute periods with no event written, and no data at all counts as none written.
    assert.deepEqual([stopped.properties.Period, stopped.properties.EvaluationPeriods, stopped.properties.DatapointsToAlarm], [60, 15, 15]);
    assert.deepEqual([stopped.properties.ComparisonOperator, stopped.properties.Threshold, stopped.properties.TreatMissingData], ['LessThanThreshold', 1, 'breaching']);
    const apiName = only(packaged.template, 'AWS::ApiGateway::RestApi').Properties!.Name;
    assert.equal(alarms.get('Api4xxAlarm')?.identity, metricIdentity('AWS/ApiGateway', '4XXError', { ApiName: apiName, Stage: 'prod' }));
    assert.equal(alarms.get('Api5xxAlarm')?.identity, metricIdentity('AWS/ApiGateway', '5XXError', { ApiName: apiName, Stage: 'prod' }));
    for (const alarm of alarms.values()) assert.deepEqual(alarm.properties.AlarmActions, [], `${alarm.id} notifies nobody without ALARM_TOPIC_ARN`);
  });

  it('logs the stage\'s access to its own group, without execution logs (they would hold the audit events)', () => {
    const state = JSON.parse(packaged.state) as { service: { provider: { logs: { restApi: Record<string, unknown> } } } };
    const restApi = state.service.provider.logs.restApi;
    assert.deepEqual([restApi.accessLogging, restApi.executionLogging, restApi.fullExecutionData], [true, false, false]);
    assert.doesNotMatch(String(restApi.format), /authorization|\$context\.authorizer|requestOverride/i);
    const group = packaged.template.Resources.ApiGatewayLogGroup!;
    assert.equal(group.Properties!.LogGroupName, '/aws/api-gateway/kube-audit-relay-prod');
    assert.notEqual(group.Properties!.LogGroupName, packaged.template.Resources.AuditLogGroup!.Properties!.LogGroupName);
  });

  it('has a dashboard of the relay\'s health and the audit itself', () => {
    const body = JSON.parse(only(packaged.template, 'AWS::CloudWatch::Dashboard').Properties!.DashboardBody['Fn::Sub']) as {
      widgets: { type: string; properties: { title: string; query?: string; alarms?: string[]; metrics?: unknown[][] } }[];
    };
    const titles = body.widgets.map((widget) => widget.properties.title);
    for (const title of ['Alarms', 'Batches by answer', 'Events', 'Requests by verb', 'Top users', '401/403 by user', 'Who changed RBAC', 'Secrets access']) {
      assert.ok(titles.includes(title), `no widget ${title} in ${titles.join(', ')}`);
    }
    const logWidgets = body.widgets.filter((item) => item.type === 'log');
    assert.ok(logWidgets.length > 0, 'the dashboard has Logs Insights widgets');
    for (const widget of logWidgets) assert.match(widget.properties.query!, /^SOURCE '\/kube-audit-relay\/prod\/audit' \| /);
    // Every cluster the relay hears from, listed in CLUSTERS or not, by a SEARCH over the Cluster dimension.
    const perCluster = body.widgets.find((widget) => widget.properties.title.startsWith('Per cluster'))!;
    assert.deepEqual(
      (perCluster.properties.metrics as { expression: string }[][]).map(([metric]) => metric!.expression),
      ['EventsWritten', 'BatchesRefused', 'BatchesFailed'].map((name) => `SEARCH('{KubeAuditRelay,Cluster,service} MetricName="${name}"', 'Sum', 300)`),
    );
    // Every alarm is on the dashboard: the relay's in "Alarms", the generated detections' in "Detections".
    const alarmIds = alarmMetrics(packaged.template).map((alarm) => `\${${alarm.id}.Arn}`);
    const alarmWidgets = body.widgets.filter((widget) => widget.type === 'alarm');
    assert.deepEqual(alarmWidgets.map((widget) => widget.properties.title), ['Alarms', 'Detections']);
    assert.deepEqual(alarmWidgets.flatMap((widget) => widget.properties.alarms!).sort(), alarmIds.sort());
  });

  it('reserves concurrency for the function, 20 by default', () => {
    assert.equal(only(packaged.template, 'AWS::Lambda::Function').Properties!.ReservedConcurrentExecutions, 20);
  });

  it('runs nodejs22.x on arm64 with a timeout under 29 s', () => {
    assertFunction(packaged.template);
  });

  it('outputs the private invoke URL with the first endpoint, the log group and the token parameter', () => {
    const url = invokeUrl(packaged.template);
    assert.equal(url.text, 'https://${ApiGatewayRestApi}-${VpcEndpointId}.execute-api.${AWS::Region}.${AWS::URLSuffix}/prod/');
    assert.equal(url.vpce, EXISTING_ENDPOINTS.split(',')[0]);
    assert.deepEqual(packaged.template.Outputs!.AuditLogGroupName!.Value, { Ref: 'AuditLogGroup' });
    assert.equal(packaged.template.Outputs!.AuthTokenParameterName!.Value, '/kube-audit-relay/prod/auth-token');
    // The framework's own ServiceEndpoint output is replaced rather than left naming the private-DNS-only URL.
    const [, parts] = (packaged.template.Outputs!.ServiceEndpoint!.Value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
    assert.deepEqual(parts.slice(0, 5), ['https://', { Ref: 'ApiGatewayRestApi' }, '-', EXISTING_ENDPOINTS.split(',')[0], '.execute-api.']);
    assert.equal(parts.at(-1), '/prod/');
  });
});

describe('serverless package: created VPC endpoint, Lambda in the VPC', () => {
  let packaged: PackagedService;
  before(() => {
    packaged = variants.staging;
  });

  it('ran offline: nothing tried to open a connection', () => {
    assert.doesNotMatch(packaged.stderr, /deny-network/);
  });

  it('is a private REST API only, reachable through the endpoint it creates', () => {
    assertPrivateOnly(packaged.template);
    assertResourcePolicy(packaged.template, [{ Ref: 'ExecuteApiVpcEndpoint' }]);
    const endpoint = packaged.template.Resources.ExecuteApiVpcEndpoint!.Properties!;
    assert.deepEqual(endpoint.ServiceName, { 'Fn::Sub': 'com.amazonaws.${AWS::Region}.execute-api' });
    assert.equal(endpoint.VpcEndpointType, 'Interface');
    assert.equal(endpoint.VpcId, CREATED.VPC_ID);
    assert.deepEqual(endpoint.SubnetIds, { 'Fn::Split': [',', CREATED.SUBNET_IDS] });
    assert.equal(endpoint.PrivateDnsEnabled, true);
  });

  it('also denies requests from outside SOURCE_VPC_IDS', () => {
    const policy = only(packaged.template, 'AWS::ApiGateway::RestApi').Properties!.Policy as { Statement: Statement[] };
    const denyVpcs = policy.Statement.filter((statement) => statement.Effect === 'Deny' && statement.Condition?.StringNotEquals?.['aws:SourceVpc']);
    assert.deepEqual(denyVpcs.map((statement) => statement.Condition!.StringNotEquals!['aws:SourceVpc']), [[CREATED.SOURCE_VPC_IDS]]);
  });

  it('admits only HTTPS from ALLOWED_CIDRS to the endpoint', () => {
    const group = packaged.template.Resources.ExecuteApiEndpointSecurityGroup!.Properties!;
    assert.deepEqual(
      group.SecurityGroupIngress.map((rule: any) => [rule.IpProtocol, rule.FromPort, rule.ToPort, rule.CidrIp ?? rule.CidrIpv6]),
      CREATED.ALLOWED_CIDRS.split(',').map((cidr) => ['tcp', 443, 443, cidr]),
    );
  });

  it('lets the created endpoint carry only POSTs to this stage of this account\'s APIs', () => {
    const policy = packaged.template.Resources.ExecuteApiVpcEndpoint!.Properties!.PolicyDocument as { Statement: Statement[] };
    assert.deepEqual(
      policy.Statement.map((statement) => [statement.Effect, statement.Action, arnText(statement.Resource)]),
      [['Allow', 'execute-api:Invoke', 'arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:*/staging/POST/*']],
    );
  });

  it('describes every security group in the characters EC2 accepts (no apostrophe)', () => {
    const groups = ofType(packaged.template, 'AWS::EC2::SecurityGroup');
    assert.equal(groups.length, 3);
    for (const [id, group] of groups) assert.match(group.Properties!.GroupDescription, /^[a-zA-Z0-9 ._\-:/()#,@[\]+=&;{}!$*]{1,255}$/, id);
  });

  it('runs the function in the subnets, with CloudWatch Logs and SSM reached through interface endpoints', () => {
    const vpcConfig = only(packaged.template, 'AWS::Lambda::Function').Properties!.VpcConfig;
    assert.deepEqual(vpcConfig.SubnetIds, { 'Fn::Split': [',', CREATED.SUBNET_IDS] });
    assert.deepEqual(vpcConfig.SecurityGroupIds, [{ Ref: 'ReceiveFunctionSecurityGroup' }]);
    const services = ofType(packaged.template, 'AWS::EC2::VPCEndpoint').map(([, endpoint]) => endpoint.Properties!.ServiceName['Fn::Sub']);
    assert.deepEqual(services.sort(), ['com.amazonaws.${AWS::Region}.execute-api', 'com.amazonaws.${AWS::Region}.logs', 'com.amazonaws.${AWS::Region}.ssm']);
    const egress = packaged.template.Resources.ReceiveFunctionSecurityGroup!.Properties!.SecurityGroupEgress;
    assert.deepEqual(egress.map((rule: any) => [rule.FromPort, rule.DestinationSecurityGroupId]), [[443, { Ref: 'AwsApiEndpointSecurityGroup' }]]);
    assert.deepEqual(ofType(packaged.template, 'AWS::EC2::NatGateway'), []);
  });

  it('scopes IAM to named resources; network interfaces are limited to the subnets and security group', () => {
    assertLeastPrivilege(packaged.template, {
      groupName: CREATED.LOG_GROUP_NAME,
      parameterArn: 'arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/kube-audit-relay/payments/auth-token',
    });
    const statements = identityStatements(packaged.template);
    const create = statements.find((statement) => list(statement.Action).includes('ec2:CreateNetworkInterface'))!;
    const subnets = list(create.Resource).map(arnText).filter((arn) => arn.includes(':subnet/'));
    assert.deepEqual(subnets.map((arn) => arn.split('/')[1]), CREATED.SUBNET_IDS.split(','));
    const decrypt = statements.find((statement) => list(statement.Action).includes('kms:Decrypt'))!;
    assert.deepEqual(decrypt.Resource, CREATED.AUTH_TOKEN_KMS_KEY_ARN);
    assert.deepEqual(decrypt.Condition?.StringEquals?.['kms:ViaService'], { 'Fn::Sub': 'ssm.${AWS::Region}.amazonaws.com' });
  });

  it('uses the given KMS key and group name, and keeps the queries and alarms', () => {
    assert.deepEqual(ofType(packaged.template, 'AWS::KMS::Key'), [], 'no key is created when one is given');
    assert.equal(packaged.template.Resources.AuditLogGroup!.Properties!.KmsKeyId, CREATED.KMS_KEY_ARN);
    assertCreatedGroup(packaged.template, CREATED.LOG_GROUP_NAME);
    assertLogSearch(packaged.template, CREATED.LOG_GROUP_NAME);
    assertFunction(packaged.template);
  });

  it('holds the generated detections, their alarms notifying ALARM_TOPIC_ARN', () => {
    assertDetections(packaged.template, { cluster: 'payments', groupName: CREATED.LOG_GROUP_NAME, filterGroup: { Ref: 'AuditLogGroup' }, metricFilters: true, alarmActions: [ALARM_TOPIC_ARN] });
  });

  it('alarms when any one of the CLUSTERS stopped sending, once per cluster, and shows each alarm on the dashboard', () => {
    const relay = (Cluster: string) => metricIdentity('KubeAuditRelay', 'EventsWritten', { service: 'kube-audit-relay', Cluster });
    const stopped = alarmMetrics(packaged.template).filter((alarm) => alarm.properties.MetricName === 'EventsWritten');
    assert.deepEqual(
      stopped.map((alarm) => [alarm.id, alarm.identity]).sort(),
      [
        ['AuditStoppedAlarm', relay('payments')],
        ['AuditStoppedCheckoutEu1Alarm', relay('checkout-eu1')],
      ],
    );
    for (const { id, properties } of stopped) {
      assert.deepEqual(
        [properties.Period, properties.EvaluationPeriods, properties.DatapointsToAlarm, properties.ComparisonOperator, properties.Threshold, properties.TreatMissingData],
        [60, 15, 15, 'LessThanThreshold', 1, 'breaching'],
        id,
      );
      assert.deepEqual(properties.AlarmActions, [ALARM_TOPIC_ARN], id);
    }
    const body = JSON.parse(only(packaged.template, 'AWS::CloudWatch::Dashboard').Properties!.DashboardBody['Fn::Sub']) as { widgets: { properties: { title: string; alarms?: string[] } }[] };
    const shown = body.widgets.find((widget) => widget.properties.title === 'Alarms')!.properties.alarms!;
    for (const { id } of stopped) assert.ok(shown.includes(`\${${id}.Arn}`), `${id} is not on the dashboard`);
  });

  it("alarms on every cluster's failed and refused batches, not only CLUSTER_NAME's", () => {
    const relay = (name: string, Cluster: string) => metricIdentity('KubeAuditRelay', name, { service: 'kube-audit-relay', Cluster });
    const batches = alarmMetrics(packaged.template).filter((alarm) => ['BatchesFailed', 'BatchesRefused'].includes(alarm.properties.MetricName));
    assert.deepEqual(
      batches.map((alarm) => [alarm.id, alarm.identity]).sort(),
      [
        ['BatchesFailedAlarm', relay('BatchesFailed', 'payments')],
        ['BatchesFailedCheckoutEu1Alarm', relay('BatchesFailed', 'checkout-eu1')],
        ['BatchesRefusedAlarm', relay('BatchesRefused', 'payments')],
        ['BatchesRefusedCheckoutEu1Alarm', relay('BatchesRefused', 'checkout-eu1')],
      ],
    );
    for (const { id, properties } of batches) {
      assert.match(properties.AlarmDescription, new RegExp(`to cluster ${properties.Dimensions[1].Value} `), id);
      assert.deepEqual([properties.Period, properties.Threshold, properties.ComparisonOperator, properties.TreatMissingData], [300, 0, 'GreaterThanThreshold', 'notBreaching'], id);
      assert.deepEqual(properties.AlarmActions, [ALARM_TOPIC_ARN], id);
    }
  });

  it('outputs the private invoke URL naming the created endpoint', () => {
    const url = invokeUrl(packaged.template);
    assert.equal(url.text, 'https://${ApiGatewayRestApi}-${VpcEndpointId}.execute-api.${AWS::Region}.${AWS::URLSuffix}/staging/');
    assert.deepEqual(url.vpce, { Ref: 'ExecuteApiVpcEndpoint' });
    assert.equal(packaged.template.Outputs!.AuthTokenParameterName!.Value, '/kube-audit-relay/payments/auth-token');
  });
});

describe('serverless package: AUTH_MODE=none, INFREQUENT_ACCESS group, alarm topic', () => {
  let packaged: PackagedService;
  before(() => {
    packaged = variants.open;
  });

  it('gives the function no token parameter and no permission to read one', () => {
    const variables = only(packaged.template, 'AWS::Lambda::Function').Properties!.Environment.Variables;
    assert.equal(variables.AUTH_MODE, 'none');
    assert.equal(variables.AUTH_TOKEN_PARAMETER, '');
    const statements = identityStatements(packaged.template);
    assert.deepEqual(statements.filter((statement) => list(statement.Action).some((action) => action.startsWith('ssm:') || action === 'kms:Decrypt')), []);
    assertPrivateOnly(packaged.template);
  });

  it('leaves out the metric filters (401/403 and detections) and field indexes, which INFREQUENT_ACCESS groups cannot have', () => {
    const group = packaged.template.Resources.AuditLogGroup!.Properties!;
    assert.equal(group.LogGroupClass, 'INFREQUENT_ACCESS');
    assert.deepEqual(group.FieldIndexPolicies, []);
    assert.deepEqual(ofType(packaged.template, 'AWS::Logs::MetricFilter'), []);
    assert.ok(!alarmMetrics(packaged.template).some((alarm) => alarm.properties.MetricName === 'AuthFailures'));
  });

  it('keeps the saved query of every detection', () => {
    assertDetections(packaged.template, { cluster: 'open', groupName: '/kube-audit-relay/open/audit', filterGroup: undefined, metricFilters: false, alarmActions: [ALARM_TOPIC_ARN] });
  });

  it('creates the cold group with the audit group\'s key, retention and protection, and lets the function write to it', async () => {
    const { Resources } = packaged.template;
    const cold = Resources.ColdAuditLogGroup!;
    const audit = Resources.AuditLogGroup!;
    assert.equal((cold as { DeletionPolicy?: string }).DeletionPolicy, 'Retain');
    assert.equal(cold.Properties!.LogGroupName, '/kube-audit-relay/open/audit-cold');
    assert.equal(cold.Properties!.LogGroupClass, 'INFREQUENT_ACCESS');
    for (const property of ['RetentionInDays', 'KmsKeyId', 'DeletionProtectionEnabled']) assert.deepEqual(cold.Properties![property], audit.Properties![property], property);
    const keyStatement = (Resources.AuditLogKey!.Properties!.KeyPolicy.Statement as Statement[]).find((statement) => statement.Sid === 'CloudWatchLogsEncryptsThisGroup')!;
    assert.deepEqual(keyStatement.Condition!.ArnEquals!['kms:EncryptionContext:aws:logs:arn'], [
      { 'Fn::Sub': 'arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/kube-audit-relay/open/audit' },
      { 'Fn::Sub': 'arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/kube-audit-relay/open/audit-cold' },
    ]);
    const write = identityStatements(packaged.template).find((statement) => statement.Sid === 'WriteAuditEvents')!;
    assert.ok(list(write.Resource).some((resource) => JSON.stringify(resource).includes('log-group:/kube-audit-relay/open/audit-cold:log-stream:*')));
    // The function starts with this environment: the routing reaches only hot and cold, and both have a group.
    const config = await readLambdaConfig(deployedVariables(packaged.template, GENERATED_BUCKET));
    assert.equal(config.coldLogGroupName, '/kube-audit-relay/open/audit-cold');
    assert.equal(config.tiers?.rules.length, 1);
  });

  it('notifies ALARM_TOPIC_ARN from every alarm', () => {
    const alarms = alarmMetrics(packaged.template);
    assert.equal(alarms.length, 7);
    for (const alarm of alarms) assert.deepEqual(alarm.properties.AlarmActions, [ALARM_TOPIC_ARN], alarm.id);
  });
});

describe('serverless package: a log group per cluster (LOG_GROUP_NAME /aws/eks/{cluster}/cluster)', () => {
  let packaged: PackagedService;
  before(() => {
    packaged = variants.fleet;
  });
  /** CLUSTER_NAME's group keeps the id AuditLogGroup; CLUSTERS' others get their own. */
  const GROUPS = { AuditLogGroup: '/aws/eks/payments/cluster', AuditLogGroupCheckoutEu1: '/aws/eks/checkout-eu1/cluster', AuditLogGroupSearchUs2: '/aws/eks/search_us2/cluster' };
  const arn = (name: string) => `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:${name}`;

  it('creates every cluster\'s group alike: retention, key, deletion protection, field indexes, kept when the stack goes', () => {
    const groups = ofType(packaged.template, 'AWS::Logs::LogGroup').filter(([id]) => id.startsWith('AuditLogGroup'));
    assert.deepEqual(Object.fromEntries(groups.map(([id, group]) => [id, group.Properties!.LogGroupName])), GROUPS);
    assertCreatedGroup(packaged.template, GROUPS.AuditLogGroup);
    const { LogGroupName: _name, ...shared } = packaged.template.Resources.AuditLogGroup!.Properties!;
    for (const [id, group] of groups) {
      const { LogGroupName: _other, ...properties } = group.Properties!;
      assert.deepEqual(properties, shared, id);
      assert.equal((group as { DeletionPolicy?: string }).DeletionPolicy, 'Retain', id);
    }
  });

  it('lets the function write to exactly these groups, never a wildcard over /aws/eks, and create none', () => {
    assert.ok(!identityStatements(packaged.template).some((statement) => list(statement.Action).includes('logs:CreateLogGroup')), 'the function may not create groups');
    assertLeastPrivilege(packaged.template, {
      groupName: GROUPS.AuditLogGroup,
      extraGroups: [GROUPS.AuditLogGroupCheckoutEu1, GROUPS.AuditLogGroupSearchUs2],
      parameterArn: 'arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/kube-audit-relay/payments/auth-token',
    });
  });

  it('lets CloudWatch Logs use the created key for every cluster\'s group', () => {
    const key = only(packaged.template, 'AWS::KMS::Key').Properties!;
    const forLogs = (key.KeyPolicy.Statement as Statement[]).find((statement) => statement.Sid === 'CloudWatchLogsEncryptsThisGroup')!;
    assert.deepEqual(forLogs.Condition!.ArnEquals!['kms:EncryptionContext:aws:logs:arn'], Object.values(GROUPS).map((name) => ({ 'Fn::Sub': arn(name) })));
  });

  it('searches every cluster\'s group from the saved queries and the dashboard, and filters each for the same alarm metrics', () => {
    const queries = ofType(packaged.template, 'AWS::Logs::QueryDefinition');
    assert.ok(queries.length > 0, 'the stack saves queries');
    for (const [id, query] of queries) assert.deepEqual(query.Properties!.LogGroupNames, Object.values(GROUPS), id);
    const body = JSON.parse(only(packaged.template, 'AWS::CloudWatch::Dashboard').Properties!.DashboardBody['Fn::Sub']) as { widgets: { type: string; properties: { query?: string } }[] };
    const sources = Object.values(GROUPS).map((name) => `SOURCE '${name}'`).join(' | ');
    const logWidgets = body.widgets.filter((item) => item.type === 'log');
    assert.ok(logWidgets.length > 0, 'the dashboard has Logs Insights widgets');
    for (const widget of logWidgets) assert.ok(widget.properties.query!.startsWith(`${sources} | `), widget.properties.query);
    // Each metric the alarms watch (401/403, every detection) is published from every cluster's group.
    const groupsByMetric = new Map<string, unknown[]>();
    for (const [, filter] of ofType(packaged.template, 'AWS::Logs::MetricFilter')) {
      const { MetricNamespace, MetricName, Dimensions } = filter.Properties!.MetricTransformations[0];
      const metric = JSON.stringify([MetricNamespace, MetricName, Dimensions]);
      groupsByMetric.set(metric, [...(groupsByMetric.get(metric) ?? []), filter.Properties!.LogGroupName]);
    }
    assert.ok(groupsByMetric.size >= 2, 'the 401/403 filter and at least one detection filter');
    for (const [metric, groups] of groupsByMetric) assert.deepEqual(groups, Object.keys(GROUPS).map((id) => ({ Ref: id })), metric);
    const authFailureAlarms = alarmMetrics(packaged.template).filter((alarm) => alarm.properties.Namespace.startsWith('KubeAuditRelay') && alarm.properties.MetricName === 'AuthFailures');
    assert.equal(authFailureAlarms.length, 1, 'one auth-failure alarm');
    for (const { id, properties } of authFailureAlarms) {
      assert.ok(groupsByMetric.has(JSON.stringify([properties.Namespace, properties.MetricName, [{ Key: 'Cluster', Value: 'payments' }]])), id);
    }
  });

  it('alarms on each cluster, CLUSTER_NAME included though CLUSTERS leaves it out: refusals of unknown callers count under it', () => {
    const ids = alarmMetrics(packaged.template).map((alarm) => alarm.id).filter((id) => /^(BatchesFailed|BatchesRefused|AuditStopped)/.test(id)).sort();
    assert.deepEqual(ids, [
      'AuditStoppedCheckoutEu1Alarm',
      'AuditStoppedSearchUs2Alarm',
      'BatchesFailedAlarm',
      'BatchesFailedCheckoutEu1Alarm',
      'BatchesFailedSearchUs2Alarm',
      'BatchesRefusedAlarm',
      'BatchesRefusedCheckoutEu1Alarm',
      'BatchesRefusedSearchUs2Alarm',
    ]);
  });

  it('gives the function the template, which it starts with', async () => {
    const variables = only(packaged.template, 'AWS::Lambda::Function').Properties!.Environment.Variables as Record<string, string>;
    assert.equal(variables.LOG_GROUP_NAME, '/aws/eks/{cluster}/cluster');
    // The token parameter as SSM would hand it over: one token per cluster, and one falling back to CLUSTER_NAME.
    const tokens = async () => '0123456789abcdef0123456789abcdef checkout-eu1\nfedcba9876543210fedcba9876543210\n';
    const config = await readLambdaConfig(variables, tokens);
    assert.equal(config.logGroupName, '/aws/eks/{cluster}/cluster');
    assert.equal(config.pipeline.cluster, 'payments');
  });
});

describe('serverless package: adopted log group (LOG_GROUP=existing), Lambda in the VPC, no reserved concurrency', () => {
  let packaged: PackagedService;
  before(() => {
    packaged = variants.adopted;
  });

  it('neither creates nor encrypts the group, but writes to, filters and outputs it by name', () => {
    const groupName = '/kube-audit-relay/adopted/audit';
    assert.equal(packaged.template.Resources.AuditLogGroup, undefined);
    assert.deepEqual(ofType(packaged.template, 'AWS::KMS::Key'), []);
    assert.deepEqual(ofType(packaged.template, 'AWS::KMS::Alias'), []);
    assertLogSearch(packaged.template, groupName, groupName);
    assertDetections(packaged.template, { cluster: 'adopted', groupName, filterGroup: groupName, metricFilters: true, alarmActions: [] });
    assert.equal(packaged.template.Outputs!.AuditLogGroupName!.Value, groupName);
    assertLeastPrivilege(packaged.template, {
      groupName,
      parameterArn: 'arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/kube-audit-relay/adopted/auth-token',
    });
  });

  it('reserves no concurrency with RESERVED_CONCURRENCY=none', () => {
    assert.equal(only(packaged.template, 'AWS::Lambda::Function').Properties!.ReservedConcurrentExecutions, undefined);
  });
});

/** The statements of the function's role that touch S3 or KMS, as [Sid, actions, resources, condition]. */
function storageStatements(template: Template): [string | undefined, string[], unknown, unknown][] {
  return identityStatements(template)
    .filter((statement) => list(statement.Action).some((action) => action.startsWith('s3:') || action.startsWith('kms:')))
    .map((statement) => [statement.Sid, list(statement.Action), statement.Resource, statement.Condition]);
}

/** The grant to write the archive: objects under the prefix only, `bucket` as a Fn::Sub names it. */
const archiveBatches = (bucket: string, prefix: string): [string, string[], unknown, unknown] => [
  'ArchiveBatches',
  ['s3:PutObject'],
  { 'Fn::Sub': `arn:\${AWS::Partition}:s3:::${bucket}/${prefix}*` },
  undefined,
];

/** The grant to encrypt the archive: a data key from `key`, and only through S3. */
const encryptArchive = (key: unknown): [string, string[], unknown, unknown] => [
  'EncryptArchive',
  ['kms:GenerateDataKey'],
  key,
  { StringEquals: { 'kms:ViaService': { 'Fn::Sub': 's3.${AWS::Region}.amazonaws.com' } } },
];

/** The Athena side of every archive variant: results encrypted with `key`, in a bucket of their own, and the saved queries. */
function assertAthena(template: Template, key: unknown): void {
  const workGroup = only(template, 'AWS::Athena::WorkGroup').Properties!;
  const configuration = workGroup.WorkGroupConfiguration;
  assert.equal(configuration.EnforceWorkGroupConfiguration, true, 'clients may not send results elsewhere, unencrypted');
  assert.deepEqual(configuration.ResultConfiguration, {
    OutputLocation: { 'Fn::Sub': 's3://${AthenaResultsBucket}/' },
    EncryptionConfiguration: { EncryptionOption: 'SSE_KMS', KmsKey: key },
  });
  const results = template.Resources.AthenaResultsBucket!.Properties!;
  assert.deepEqual(results.BucketEncryption.ServerSideEncryptionConfiguration, [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: key }, BucketKeyEnabled: true }]);
  assert.equal(results.ObjectLockEnabled, undefined, 'results are not kept like evidence');
  assert.deepEqual(results.LifecycleConfiguration.Rules.map((rule: { ExpirationInDays: number }) => rule.ExpirationInDays), [30]);
  assertTlsOnly(template, 'AthenaResultsBucket');

  const table = template.Resources.ArchiveTable!.Properties!.TableInput;
  assert.equal(table.StorageDescriptor.SerdeInfo.SerializationLibrary, 'org.openx.data.jsonserde.JsonSerDe');
  assert.equal(table.StorageDescriptor.Compressed, true);
  const columns = (table.StorageDescriptor.Columns as { Name: string }[]).map((column) => column.Name);
  for (const field of ['auditID', 'verb', 'user', 'objectRef', 'responseStatus', 'sourceIPs', 'requestObject', 'stageTimestamp', 'annotations']) {
    assert.ok(columns.includes(field.toLowerCase()), `no column for the Event's ${field}`);
  }
  assert.deepEqual(table.PartitionKeys.map((key: { Name: string }) => key.Name), ['cluster', 'date', 'hour']);

  const queries = ofType(template, 'AWS::Athena::NamedQuery').map(([, query]) => query.Properties!);
  assert.deepEqual(queries.map((query) => query.Name.replace(/^[^-]+-/, '')).sort(), ['events-of-one-user', 'rbac-writes', 'who-touched-one-object']);
  for (const query of queries) {
    assert.deepEqual([query.Database, query.WorkGroup], [{ Ref: 'ArchiveDatabase' }, { Ref: 'ArchiveWorkGroup' }]);
    // Every saved query names a date range, so Athena reads only the projected partitions of those days.
    assert.match(query.QueryString, /FROM audit_events\nWHERE "date" BETWEEN \? AND \?/);
  }
}

describe('serverless package: ARCHIVE=create with the defaults', () => {
  let packaged: PackagedService;
  let bucket: Record<string, any>;
  before(() => {
    packaged = variants.open;
    bucket = packaged.template.Resources.ArchiveBucket!.Properties!;
  });

  it('creates the bucket on the audit group\'s key: private, owner-enforced, versioned, kept when the stack goes', () => {
    const resource = packaged.template.Resources.ArchiveBucket as { DeletionPolicy?: string; UpdateReplacePolicy?: string };
    assert.deepEqual([resource.DeletionPolicy, resource.UpdateReplacePolicy], ['Retain', 'Retain']);
    assert.equal(bucket.BucketName, undefined, 'CloudFormation names it without ARCHIVE_BUCKET_NAME');
    assert.deepEqual(bucket.BucketEncryption.ServerSideEncryptionConfiguration, [
      { ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': ['AuditLogKey', 'Arn'] } }, BucketKeyEnabled: true },
    ]);
    assert.deepEqual(bucket.OwnershipControls, { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
    assert.deepEqual(bucket.VersioningConfiguration, { Status: 'Enabled' });
    assert.equal(bucket.ObjectLockEnabled, undefined);
    assert.equal(bucket.ObjectLockConfiguration, undefined);
    assert.deepEqual(ofType(packaged.template, 'AWS::KMS::Key').map(([id]) => id), ['AuditLogKey'], 'no key of its own');
    assertPrivateOnly(packaged.template);
  });

  it('denies every request without TLS, to the bucket and to its objects', () => {
    assertTlsOnly(packaged.template, 'ArchiveBucket');
  });

  it('moves the archive to GLACIER_IR after 90 days and expires it after 2557, under the prefix', () => {
    const [retention, markers] = bucket.LifecycleConfiguration.Rules;
    assert.equal(retention.Prefix, 'audit/');
    assert.deepEqual(retention.Transitions, [{ StorageClass: 'GLACIER_IR', TransitionInDays: 90 }]);
    assert.equal(retention.ExpirationInDays, 2557);
    assert.deepEqual(retention.NoncurrentVersionExpiration, { NoncurrentDays: 1 });
    assert.deepEqual([markers.Prefix, markers.ExpiredObjectDeleteMarker], ['audit/', true]);
  });

  it('lets the function put objects under the prefix and encrypt them with the key, and nothing more in S3 or KMS', () => {
    assertNamedResources(packaged.template);
    assert.deepEqual(storageStatements(packaged.template), [
      archiveBatches('${ArchiveBucket}', 'audit/'),
      encryptArchive({ 'Fn::GetAtt': ['AuditLogKey', 'Arn'] }),
    ]);
  });

  it('archives every event as a guaranteed output: the function reads its OUTPUTS as the bucket\'s s3:// URI', async () => {
    const variables = only(packaged.template, 'AWS::Lambda::Function').Properties!.Environment.Variables as Record<string, unknown>;
    assert.deepEqual(variables.OUTPUTS, { 'Fn::Sub': 's3://${ArchiveBucket}/audit/' });
    const config = await readLambdaConfig(deployedVariables(packaged.template, GENERATED_BUCKET));
    assert.deepEqual(config.outputs.guaranteed, [{ kind: 's3', bucket: GENERATED_BUCKET, prefix: 'audit/' }]);
  });

  it('queries the archive with Athena: encrypted results in a bucket of their own, the saved queries', () => {
    assertAthena(packaged.template, { 'Fn::GetAtt': ['AuditLogKey', 'Arn'] });
  });

  it('projects exactly the partitions the sink writes: a key archiveObject renders is found where its batch began', async () => {
    const parameters = tableParameters(packaged.template, GENERATED_BUCKET);
    assert.equal(parameters['storage.location.template'], `s3://${GENERATED_BUCKET}/audit/cluster=\${cluster}/date=\${date}/hour=\${hour}`);
    await assertProjectionFindsArchive(parameters, { bucket: GENERATED_BUCKET, prefix: 'audit/', clusters: ['open'], expiryDays: 2557 });
  });
});

describe('serverless package: ARCHIVE=create with its own key, Object Lock and ARCHIVE_BUCKET_NAME', () => {
  let packaged: PackagedService;
  let bucket: Record<string, any>;
  before(() => {
    packaged = variants.locked;
    bucket = packaged.template.Resources.ArchiveBucket!.Properties!;
  });

  it('locks every object in COMPLIANCE mode for ARCHIVE_OBJECT_LOCK_DAYS, on a versioned bucket', () => {
    assert.equal(bucket.BucketName, ARCHIVE_BUCKET);
    assert.equal(bucket.ObjectLockEnabled, true);
    assert.deepEqual(bucket.ObjectLockConfiguration, { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 2192 } } });
    assert.deepEqual(bucket.VersioningConfiguration, { Status: 'Enabled' });
    assertTlsOnly(packaged.template, 'ArchiveBucket');
  });

  it('moves the archive to STANDARD_IA after 30 days and expires it after the default 2557', () => {
    const [retention] = bucket.LifecycleConfiguration.Rules;
    assert.deepEqual(retention.Transitions, [{ StorageClass: 'STANDARD_IA', TransitionInDays: 30 }]);
    assert.equal(retention.ExpirationInDays, 2557);
  });

  it('creates the archive\'s own key with rotation, for the bucket, the function and Athena\'s results', () => {
    const key = packaged.template.Resources.ArchiveKey! as { DeletionPolicy?: string; Properties: Record<string, any> };
    assert.equal(key.DeletionPolicy, 'Retain');
    assert.equal(key.Properties.EnableKeyRotation, true);
    assert.equal(packaged.template.Resources.ArchiveKeyAlias!.Properties!.AliasName, 'alias/kube-audit-relay-payments-locked-archive');
    const archiveKey = { 'Fn::GetAtt': ['ArchiveKey', 'Arn'] };
    assert.deepEqual(bucket.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.KMSMasterKeyID, archiveKey);
    assert.deepEqual(storageStatements(packaged.template), [
      archiveBatches('${ArchiveBucket}', 'audit/'),
      encryptArchive(archiveKey),
    ]);
    assertAthena(packaged.template, archiveKey);
  });

  it('projects every cluster of CLUSTERS', async () => {
    const parameters = tableParameters(packaged.template, ARCHIVE_BUCKET);
    assert.equal(parameters['projection.cluster.values'], 'payments,checkout-eu1');
    await assertProjectionFindsArchive(parameters, { bucket: ARCHIVE_BUCKET, prefix: 'audit/', clusters: ['payments', 'checkout-eu1'], expiryDays: 2557 });
  });
});

describe('serverless package: ARCHIVE=existing', () => {
  let packaged: PackagedService;
  before(() => {
    packaged = variants.archived;
  });

  it('creates no archive bucket and changes nothing about the existing one', () => {
    // The framework's deployment bucket, and the one for Athena's results.
    assert.deepEqual(ofType(packaged.template, 'AWS::S3::Bucket').map(([id]) => id).sort(), ['AthenaResultsBucket', 'ServerlessDeploymentBucket']);
    assert.deepEqual(ofType(packaged.template, 'AWS::S3::BucketPolicy').map(([id]) => id).sort(), ['AthenaResultsBucketPolicy', 'ServerlessDeploymentBucketPolicy']);
  });

  it('archives to the bucket and prefix given, with the key given', async () => {
    const variables = only(packaged.template, 'AWS::Lambda::Function').Properties!.Environment.Variables as Record<string, string>;
    assert.equal(variables.OUTPUTS, `s3://${ARCHIVE_BUCKET}/eks/payments/`);
    assertNamedResources(packaged.template);
    assert.deepEqual(storageStatements(packaged.template), [
      archiveBatches(ARCHIVE_BUCKET, 'eks/payments/'),
      encryptArchive(ARCHIVE_KEY_ARN),
    ]);
    assertAthena(packaged.template, ARCHIVE_KEY_ARN);
  });

  it('projects the existing bucket\'s prefix over ARCHIVE_EXPIRY_DAYS', async () => {
    const parameters = tableParameters(packaged.template, ARCHIVE_BUCKET);
    assert.equal(parameters['projection.date.range'], 'NOW-400DAYS,NOW');
    await assertProjectionFindsArchive(parameters, { bucket: ARCHIVE_BUCKET, prefix: 'eks/payments/', clusters: ['payments', 'checkout-eu1'], expiryDays: 400 });
  });
});

/** What a packaged function runs against: the CloudWatch Logs stand-in and s3rver, on loopback. */
interface PackagedFunction {
  readonly handler: ProxyHandler;
  /** The function's environment as deployed. */
  readonly variables: Record<string, string>;
  readonly logs: CloudWatchLogsStandIn;
  readonly s3: S3Client;
}

/**
 * Runs `act` with the handler of a packaged variant, its environment as deployed with the archive bucket `bucket`
 * (created in s3rver), and the log groups the stack would create; restores the environment and stops both after.
 */
async function withPackagedFunction(template: Template, bucket: string, act: (run: PackagedFunction) => Promise<void>): Promise<void> {
  const logs = await startCloudWatchLogsStandIn({ seed: 15 });
  const s3rver = await startS3rver();
  const s3 = new S3Client({ endpoint: s3rver.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  const saved = { ...process.env };
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    useEnvironment({ cloudWatchLogs: logs.endpoint, ssm: 'http://127.0.0.1:9' }, {});
    const { NODE_OPTIONS: _nodeOptions, ...variables } = deployedVariables(template, bucket);
    // s3rver knows one access key; the CloudWatch Logs stand-in checks signatures, not who signed.
    Object.assign(process.env, variables, { AWS_ENDPOINT_URL_S3: s3rver.endpoint, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' });
    logs.createLogGroup(variables.LOG_GROUP_NAME!);
    if (variables.COLD_LOG_GROUP_NAME) logs.createLogGroup(variables.COLD_LOG_GROUP_NAME, undefined, 'INFREQUENT_ACCESS');
    await act({ handler: await coldStart(), variables, logs, s3 });
  } finally {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
    s3.destroy();
    await s3rver.stop();
    await logs.close();
  }
}

describe('the packaged function archives where Athena looks', () => {
  it('runs the Object Lock variant\'s function environment against s3rver: every object it writes is in a projected partition', async () => {
    const { template } = variants.locked;
    await withPackagedFunction(template, ARCHIVE_BUCKET, async ({ handler, s3 }) => {
      // Act: two batches of recent events.
      const events = generatedEvents(fixtureLines(), 60, 3_600_000);
      for (const body of [eventList(events.slice(0, 30)), eventList(events.slice(30))]) {
        const response = await handler(proxyEvent({ body }), lambdaContext());
        assert.equal(response.statusCode, 200, response.body);
      }

      // Assert: each object lies in a partition Athena projects, of the function's cluster.
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: ARCHIVE_BUCKET }));
      const keys = (listed.Contents ?? []).map((object) => object.Key!);
      assert.equal(keys.length, 2, `one object per batch: ${keys.join(', ')}`);
      const parameters = tableParameters(template, ARCHIVE_BUCKET);
      for (const key of keys) assert.equal(projectedPartition(parameters, `s3://${ARCHIVE_BUCKET}/${key}`)?.cluster, 'payments', key);
    });
  });
});

describe('serverless package: TIERS_PRESET=security with the cold group and the archive', () => {
  it('gives the function the preset, the cold group and the archive, and its own reader accepts them', async () => {
    const variables = deployedVariables(variants.tiered.template, TIERED_BUCKET);
    assert.deepEqual([variables.TIERS_PRESET, variables.COLD_LOG_GROUP_NAME, variables.OUTPUTS], ['security', '/kube-audit-relay/payments/audit-cold', `s3://${TIERED_BUCKET}/audit/`]);
    const config = await readLambdaConfig(variables);
    assert.equal(config.tiers, PRESETS.security);
    assert.deepEqual(config.outputs.guaranteed, [{ kind: 's3', bucket: TIERED_BUCKET, prefix: 'audit/' }]);
  });

  it('runs the packaged function against the CloudWatch Logs stand-in and s3rver: hot in the audit group, cold in the cold group, archive-only in the bucket', async () => {
    await withPackagedFunction(variants.tiered.template, TIERED_BUCKET, async ({ handler, variables, logs, s3 }) => {
      const sample = securitySample();
      const response = await handler(proxyEvent({ body: eventList(sample.lines) }), lambdaContext());
      assert.equal(response.statusCode, 200, response.body);
      assert.deepEqual(await auditIDsInGroup(logs, variables.LOG_GROUP_NAME!), sample.hot);
      assert.deepEqual(await auditIDsInGroup(logs, variables.COLD_LOG_GROUP_NAME!), sample.cold);
      assert.deepEqual(await auditIDsInBucket(s3, TIERED_BUCKET), sample.archive);
    });
  });
});

describe('the package-time tier checks follow the function\'s own rule', () => {
  /** infra/aws/tier-parameters.cjs, the check parameters.cjs runs on TIERS_PRESET and TIERS. */
  const { checkTierParameters } = createRequire(import.meta.url)('../../infra/aws/tier-parameters.cjs') as {
    checkTierParameters(choices: { tiersPreset: string; tiers: string; coldLogGroup: string; archive: string; problems: string[] }): void;
  };
  const TIERS_FILES = ['', COLD_TIERS, '{default: hot}', '{default: hot, archive: always}', '{default: hot, rules: [{tier: archive, verbs: [watch]}]}', '{default: drop, rules: [{tier: cold, verbs: [get]}]}'];

  it('refuses exactly the TIERS_PRESET x TIERS x ARCHIVE x COLD_LOG_GROUP combinations whose packaged environment the function refuses', async () => {
    // The packaged environments with and without a cold group and an archive: what serverless.yml sets them to.
    const tiered = deployedVariables(variants.tiered.template, TIERED_BUCKET);
    const plain = deployedVariables(variants.prod.template, TIERED_BUCKET);
    const existing = deployedVariables(variants.archived.template, ARCHIVE_BUCKET);
    assert.deepEqual([plain.TIERS_PRESET, plain.TIERS, plain.COLD_LOG_GROUP_NAME, plain.OUTPUTS], ['', '', '', ''], 'the default variant sets no tier');
    const outputs = { none: plain.OUTPUTS, create: tiered.OUTPUTS, existing: existing.OUTPUTS };
    const cold = { none: plain.COLD_LOG_GROUP_NAME, create: tiered.COLD_LOG_GROUP_NAME };
    const combinations = (['none', ...PRESET_NAMES] as string[]).flatMap((preset) => TIERS_FILES.filter((tiers) => preset === 'none' || tiers === '').map((tiers) => ({ preset, tiers })));
    let compared = 0;
    for (const { preset, tiers } of combinations) {
      for (const archive of ['none', 'create', 'existing'] as const) {
        for (const coldLogGroup of ['none', 'create'] as const) {
          const problems: string[] = [];
          checkTierParameters({ tiersPreset: preset, tiers, coldLogGroup, archive, problems });
          const env = { ...tiered, TIERS_PRESET: preset === 'none' ? '' : preset, TIERS: tiers, COLD_LOG_GROUP_NAME: cold[coldLogGroup], OUTPUTS: outputs[archive] };
          const refusal = await readLambdaConfig(env).then(() => undefined, (error: Error) => error.message);
          const at = `TIERS_PRESET=${preset} TIERS=${tiers} ARCHIVE=${archive} COLD_LOG_GROUP=${coldLogGroup}: package time says ${JSON.stringify(problems)}, the function ${refusal ?? 'accepts'}`;
          assert.equal(problems.length === 0, refusal === undefined, at);
          compared += 1;
        }
      }
    }
    assert.equal(compared, (3 + TIERS_FILES.length) * 3 * 2);
  });
});

describe('serverless package: every variant', () => {
  it('resolves every parameter at package time: no conditions, no Fn::If', (t) => {
    t.diagnostic(`packaging ${Object.keys(VARIANTS).length} variants, two at a time: ${packagingSeconds.toFixed(1)} s`);
    for (const [name, { template }] of Object.entries(variants)) {
      assert.equal(template.Conditions, undefined, name);
      assert.deepEqual(Object.entries(template.Resources).filter(([, resource]) => resource.Condition !== undefined).map(([id]) => id), [], name);
      assert.ok(!JSON.stringify(template).includes('"Fn::If"'), `${name} has a Fn::If`);
    }
  });

  it('gives no metric transformation both DefaultValue and Dimensions, which CloudWatch Logs refuses as mutually exclusive', () => {
    const transformations = Object.entries(variants).flatMap(([name, { template }]) =>
      ofType(template, 'AWS::Logs::MetricFilter').flatMap(([id, filter]) => (filter.Properties!.MetricTransformations as Record<string, unknown>[]).map((transformation) => ({ at: `${name} ${id}`, transformation }))),
    );
    assert.ok(transformations.length > 0, 'no metric filter in any variant');
    for (const { at, transformation } of transformations) assert.ok(transformation.DefaultValue === undefined || transformation.Dimensions === undefined, `${at} has both`);
  });

  it('passes cfn-lint with zero errors and zero warnings', { timeout: 180_000 }, async (t) => {
    const missing = cfnLintMissing();
    if (missing !== undefined) {
      assert.notEqual(process.env.CI, 'true', `CI must run cfn-lint: ${missing}`);
      t.skip(missing);
      return;
    }
    // A copy with a retention CloudWatch Logs does not offer shows that the linter really reads the templates.
    const broken = structuredClone(variants.prod.template) as Template;
    broken.Resources.AuditLogGroup!.Properties!.RetentionInDays = 42;
    const templates = { ...Object.fromEntries(Object.entries(variants).map(([name, { template }]) => [name, template])), broken };
    const started = performance.now();
    // 150 s: cfn-lint loads its schemas once and takes 10-25 s for these seven on this shared machine.
    const run = await cfnLint(templates, 150_000);
    t.diagnostic(`cfn-lint on ${Object.keys(templates).length} templates: ${((performance.now() - started) / 1000).toFixed(1)} s`);
    assert.ok(run.findings.length > 0 && run.findings.every((line) => line.startsWith('broken.json:')), `findings outside the broken copy:\n${run.findings.join('\n')}\n${run.stderr}`);
    assert.ok(run.findings.some((line) => /:E3030:.*42/.test(line)), `the broken copy's retention was not reported:\n${run.findings.join('\n')}`);
  });
});

describe('the relay publishes exactly the metrics the alarms and the dashboard watch', () => {
  it('runs the packaged function environment against stand-ins and finds every relay alarm and widget metric among its EMF', async () => {
    // Arrange: the default variant's function environment, with the services on loopback.
    const { template } = variants.prod;
    const variables = only(template, 'AWS::Lambda::Function').Properties!.Environment.Variables as Record<string, string>;
    const logs = await startCloudWatchLogsStandIn({ seed: 14 });
    const ssm = await startSsmStandIn();
    const saved = { ...process.env };
    try {
      useEnvironment({ cloudWatchLogs: logs.endpoint, ssm: ssm.endpoint }, {});
      const { NODE_OPTIONS: _nodeOptions, ...handlerVariables } = variables;
      Object.assign(process.env, handlerVariables);
      logs.createLogGroup(variables.LOG_GROUP_NAME!);
      const token = 'e2c4a6b8d0f1e3c5a7b9d1f3e5c7a9b1';
      const list = eventList(fixtureFile(Fixture.Metadata).slice(0, 4));
      const handler = await coldStart();

      // Act: the token parameter missing (500), then created (200), then a wrong token (401).
      const { value: statuses, lines } = await captureOutput(async () => {
        const failed = await handler(proxyEvent({ body: list, token }), lambdaContext());
        ssm.putParameter(variables.AUTH_TOKEN_PARAMETER!, token, 'SecureString');
        const stored = await handler(proxyEvent({ body: list, token }), lambdaContext());
        const refused = await handler(proxyEvent({ body: list, token: 'not-the-token-0123456789abcdef' }), lambdaContext());
        return [failed.statusCode, stored.statusCode, refused.statusCode];
      });
      assert.deepEqual(statuses, [500, 200, 401]);

      // Assert: every metric the relay alarms and widgets name, by namespace, name and whole dimension set, was published.
      const published = new Set(emfIdentities(lines));
      const relayAlarms = alarmMetrics(template).filter((alarm) => alarm.properties.Namespace === 'KubeAuditRelay' && alarm.properties.MetricName !== 'AuthFailures');
      assert.deepEqual(relayAlarms.map((alarm) => alarm.properties.MetricName).sort(), ['BatchesFailed', 'BatchesRefused', 'EventsWritten']);
      for (const alarm of relayAlarms) assert.ok(published.has(alarm.identity), `${alarm.id} watches ${alarm.identity}, which the relay does not publish: ${[...published].join(' ')}`);
      const body = JSON.parse(only(template, 'AWS::CloudWatch::Dashboard').Properties!.DashboardBody['Fn::Sub']) as { widgets: { properties: { metrics?: unknown[][] } }[] };
      const widgetMetrics = body.widgets.flatMap((widget) => widget.properties.metrics ?? []).filter((metric) => metric[0] === 'KubeAuditRelay');
      assert.ok(widgetMetrics.length >= 8);
      for (const [namespace, name, ...rest] of widgetMetrics) {
        const pairs = rest.filter((item) => typeof item === 'string') as string[];
        const dimensions = Object.fromEntries(pairs.flatMap((item, index) => (index % 2 === 0 ? [[item, pairs[index + 1]!]] : [])));
        const identity = metricIdentity(namespace as string, name as string, dimensions);
        assert.ok(published.has(identity), `the dashboard shows ${identity}, which the relay does not publish`);
      }
    } finally {
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
      Object.assign(process.env, saved);
      await logs.close();
      await ssm.close();
    }
  });
});

/** The metric identities (namespace, name, dimension set with values) in EMF documents. */
function emfIdentities(lines: readonly OutputLine[]): string[] {
  return lines.flatMap((line) => {
    const aws = line._aws as { CloudWatchMetrics?: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] } | undefined;
    return (aws?.CloudWatchMetrics ?? []).flatMap((directive) =>
      directive.Dimensions.flatMap((set) => directive.Metrics.map(({ Name }) => metricIdentity(directive.Namespace, Name, Object.fromEntries(set.map((key) => [key, String(line[key])]))))),
    );
  });
}

describe('serverless package: refused settings', () => {
  const paramArgs = (params: Record<string, string>) => Object.entries(params).flatMap(([key, value]) => ['--param', `${key}=${value}`]);

  it('names the missing VPC_ENDPOINT_IDS instead of packaging an API nobody can reach', async () => {
    const run = await runServerless(['package', '--stage', 'prod', '--package', '/dev/null/never']);
    assert.notEqual(run.code, 0);
    assert.match(run.stdout + run.stderr, /VPC_ENDPOINT_IDS is required with VPC_ENDPOINT=existing/);
  });

  it('refuses every malformed parameter at once, each by name with the allowed form', async () => {
    // Each would otherwise package and fail mid-deploy, or deploy something that cannot work.
    const refused: [string, string, RegExp][] = [
      ['ALLOWED_CIDRS', '10.20.0.0/33,apiserver,fd00::/129', /ALLOWED_CIDRS entry "10\.20\.0\.0\/33" is not an IPv4 or IPv6 CIDR; give address\/prefix with a prefix of at most 32 \(IPv6: 128\), e\.g\. 10\.20\.0\.0\/24/],
      ['LOG_RETENTION_DAYS', '42', /LOG_RETENTION_DAYS 42 is not a retention CloudWatch Logs offers; use one of 1, 3, 5, 7, 14, 30, .*, 3653/],
      ['CLUSTER_NAME', 'prod.eu1', /CLUSTER_NAME "prod\.eu1" must be 1 to 100 letters, digits, _ or - \(it goes into the KMS alias/],
      ['FUNCTION_LOG_RETENTION_DAYS', '10', /FUNCTION_LOG_RETENTION_DAYS 10 is not a retention CloudWatch Logs offers/],
      // 301 characters besides {cluster}: fits a 100-character cluster, not the 253 a token line may name.
      ['LOG_GROUP_NAME', `/${'a'.repeat(300)}/{cluster}`, /LOG_GROUP_NAME "\/a{300}\/\{cluster\}" must be 1 to 512 letters, digits or any of _ - \/ \. # \(at most 259 besides a \{cluster\}\)/],
      ['LOG_GROUP_CLASS', 'DELIVERY', /LOG_GROUP_CLASS "DELIVERY" must be one of STANDARD, INFREQUENT_ACCESS/],
      ['LOG_GROUP', 'adopt', /LOG_GROUP "adopt" must be one of create, existing/],
      ['LOG_GROUP_DELETION_PROTECTION', 'yes', /LOG_GROUP_DELETION_PROTECTION "yes" must be one of true, false/],
      ['KMS_KEY_ARN', 'alias/audit', /KMS_KEY_ARN "alias\/audit" must be create or a key ARN like arn:aws:kms:/],
      ['AUTH_MODE', 'basic', /AUTH_MODE "basic" must be one of token, none/],
      ['AUTH_TOKEN_PARAMETER', 'auth-token', /AUTH_TOKEN_PARAMETER "auth-token" must be a full SSM parameter name starting with \//],
      ['AUTH_TOKEN_KMS_KEY_ARN', 'aws/ssm', /AUTH_TOKEN_KMS_KEY_ARN "aws\/ssm" must be aws-managed or a key ARN/],
      ['MAX_EVENT_BYTES', '2000000', /MAX_EVENT_BYTES "2000000" must be a whole number from 4096 to 1048576/],
      ['VPC_ID', 'vpc0123', /VPC_ID "vpc0123" must be a VPC id like vpc-0123456789abcdef0/],
      ['SUBNET_IDS', 'subnet-1', /SUBNET_IDS entry "subnet-1" is not an id like subnet-0123456789abcdef0/],
      ['SOURCE_VPC_IDS', 'vpc-1', /SOURCE_VPC_IDS entry "vpc-1" is not an id like vpc-0123456789abcdef0 \(or any\)/],
      ['PRIVATE_DNS', 'yes', /PRIVATE_DNS "yes" must be one of true, false/],
      ['AUTH_FAILURE_THRESHOLD', '-1', /AUTH_FAILURE_THRESHOLD "-1" must be a whole number from 0 to 1000000/],
      ['AUDIT_STOPPED_MINUTES', '0', /AUDIT_STOPPED_MINUTES "0" must be a whole number from 1 to 1440/],
      ['RESERVED_CONCURRENCY', '0', /RESERVED_CONCURRENCY "0" must be a whole number from 1 \(or none to reserve nothing\)/],
      ['ALARM_TOPIC_ARN', 'audit-alarms', /ALARM_TOPIC_ARN "audit-alarms" must be none or a topic ARN like arn:aws:sns:/],
      ['COLD_LOG_GROUP', 'yes', /COLD_LOG_GROUP "yes" must be one of none, create/],
      ['CLUSTERS', 'payments,prod.eu1,checkout-eu1,checkout_eu1', /CLUSTERS entry "prod\.eu1" must be 1 to 100 letters, digits, _ or - \(it goes into the KMS alias/],
      ['TIERS_PRESET', 'strict', /TIERS_PRESET "strict" must be none or one of security, compliance, minimal/],
      ['ARCHIVE', 'yes', /ARCHIVE "yes" must be one of none, create, existing/],
    ];
    const params = { ...CREATED, ...Object.fromEntries(refused.map(([name, value]) => [name, value])) };
    const run = await runServerless(['package', '--stage', 'prod', '--package', '/dev/null/never', ...paramArgs(params)]);
    const output = run.stdout + run.stderr;
    assert.notEqual(run.code, 0);
    // Two ALLOWED_CIDRS entries and a CLUSTERS clash more than parameters: each bad entry is named.
    assert.match(output, new RegExp(`${refused.length + 3} parameter\\(s\\) refused; fix them with --param NAME=VALUE`));
    for (const [name, , message] of refused) assert.match(output, message, `${name} not refused as expected:\n${output}`);
    assert.match(output, /ALLOWED_CIDRS entry "apiserver" is not an IPv4 or IPv6 CIDR/);
    assert.match(output, /ALLOWED_CIDRS entry "fd00::\/129" is not an IPv4 or IPv6 CIDR/);
    assert.match(output, /CLUSTERS entries "checkout-eu1" and "checkout_eu1" would share the alarm AuditStoppedCheckoutEu1Alarm; rename one of the clusters/);
  });

  it('refuses archive settings S3 would refuse or that contradict each other, each by name', async () => {
    const refuse = (params: Record<string, string>) => runServerless(['package', '--stage', 'prod', '--package', '/dev/null/never', ...paramArgs({ VPC_ENDPOINT_IDS: EXISTING_ENDPOINTS, ...params })]);
    const [created, existing, lifetimes] = await Promise.all([
      refuse({
        ARCHIVE: 'create',
        ARCHIVE_BUCKET_NAME: 'Audit_Archive',
        ARCHIVE_PREFIX: '/audit',
        ARCHIVE_KMS_KEY_ARN: 's3-managed',
        ARCHIVE_TRANSITION_CLASS: 'STANDARD_IA',
        ARCHIVE_TRANSITION_DAYS: '10',
        ARCHIVE_OBJECT_LOCK_DAYS: 'forever',
        LAMBDA_IN_VPC: 'true',
        VPC_ID: CREATED.VPC_ID,
        SUBNET_IDS: CREATED.SUBNET_IDS,
      }),
      refuse({ ARCHIVE: 'existing', ARCHIVE_KMS_KEY_ARN: 'create', ARCHIVE_OBJECT_LOCK_DAYS: '365', ARCHIVE_EXPIRY_DAYS: '0' }),
      refuse({ ARCHIVE: 'create', LOG_GROUP: 'existing', ARCHIVE_TRANSITION_CLASS: 'GLACIER', ARCHIVE_TRANSITION_DAYS: '30', ARCHIVE_EXPIRY_DAYS: '100', ARCHIVE_OBJECT_LOCK_DAYS: '365' }),
    ]);
    const expectations: [typeof created, RegExp[]][] = [
      [
        created,
        [
          /6 parameter\(s\) refused/,
          /ARCHIVE_BUCKET_NAME "Audit_Archive" must be an S3 bucket name: 3 to 63 lower-case letters/,
          /ARCHIVE_PREFIX "\/audit" must be empty or path segments of letters, digits, _ \. - each ending in \//,
          /ARCHIVE needs LAMBDA_IN_VPC=false/,
          /ARCHIVE_KMS_KEY_ARN=s3-managed is only for ARCHIVE=existing/,
          /ARCHIVE_OBJECT_LOCK_DAYS "forever" must be none or a whole number of days from 1 to 36500/,
          /ARCHIVE_TRANSITION_DAYS "10" must be a whole number of days from 30 to 36500 for STANDARD_IA/,
        ],
      ],
      [
        existing,
        [
          /4 parameter\(s\) refused/,
          /ARCHIVE_BUCKET_NAME is required with ARCHIVE=existing/,
          /ARCHIVE_KMS_KEY_ARN=create needs ARCHIVE=create/,
          /ARCHIVE_EXPIRY_DAYS "0" must be a whole number of days from 1 to 36500/,
          /ARCHIVE_OBJECT_LOCK_DAYS is only for ARCHIVE=create/,
        ],
      ],
      [
        lifetimes,
        [
          /3 parameter\(s\) refused/,
          /ARCHIVE_KMS_KEY_ARN=audit-log-key needs the audit group's key \(LOG_GROUP=create, or KMS_KEY_ARN\)/,
          /ARCHIVE_EXPIRY_DAYS 100 must be at least ARCHIVE_TRANSITION_DAYS \+ 90 = 120: objects expire after they move to GLACIER, whose minimum storage duration is 90 days/,
          /ARCHIVE_EXPIRY_DAYS 100 must be at least ARCHIVE_OBJECT_LOCK_DAYS 365/,
        ],
      ],
    ];
    for (const [run, messages] of expectations) {
      const output = run.stdout + run.stderr;
      assert.notEqual(run.code, 0);
      for (const message of messages) assert.match(output, message, output);
    }
  });

  it('refuses a routing that reaches a tier the stack stores nowhere, or an archive the routing never reaches, naming both parameters and the fix', async () => {
    const refuse = (params: Record<string, string>) => runServerless(['package', '--stage', 'prod', '--package', '/dev/null/never', ...paramArgs({ VPC_ENDPOINT_IDS: EXISTING_ENDPOINTS, ...params })]);
    const [security, minimal, misspelt] = await Promise.all([
      refuse({ TIERS_PRESET: 'security' }),
      refuse({ TIERS_PRESET: 'minimal', ARCHIVE: 'create', COLD_LOG_GROUP: 'create' }),
      refuse({ TIERS: '{default: cold, rules: [{tier: warm, verb: [get]}]}', COLD_LOG_GROUP: 'create' }),
    ]);
    const expectations: [typeof security, RegExp[]][] = [
      [
        security,
        [
          /2 parameter\(s\) refused/,
          /TIERS_PRESET=security sends events to the cold tier, but COLD_LOG_GROUP is not create: set COLD_LOG_GROUP=create/,
          /TIERS_PRESET=security sends events to the archive tier, but ARCHIVE is none: set ARCHIVE=create \(or ARCHIVE=existing with ARCHIVE_BUCKET_NAME\)/,
        ],
      ],
      [
        minimal,
        [
          /2 parameter\(s\) refused/,
          /COLD_LOG_GROUP=create, but TIERS_PRESET=minimal never sends events to the cold tier.*set COLD_LOG_GROUP=none/,
          /ARCHIVE=create, but TIERS_PRESET=minimal never sends events to the archive tier, so the function would refuse to start and answer 500 to every batch: give TIERS \(a tiers file\) with "archive: always" to archive every stored event as well, or set ARCHIVE=none/,
        ],
      ],
      [misspelt, [/2 parameter\(s\) refused/, /TIERS: rules\[0\]: tier: must be one of hot, cold, archive, drop, not "warm"/, /TIERS: rules\[0\]: unknown field "verb"/]],
    ];
    for (const [run, messages] of expectations) {
      const output = run.stdout + run.stderr;
      assert.notEqual(run.code, 0);
      for (const message of messages) assert.match(output, message, output);
    }
  });

  it('requires the network of a created endpoint', async () => {
    const run = await runServerless(['package', '--stage', 'prod', '--package', '/dev/null/never', ...paramArgs({ VPC_ENDPOINT: 'create' })]);
    assert.notEqual(run.code, 0);
    const output = run.stdout + run.stderr;
    assert.match(output, /VPC_ID "" must be a VPC id like vpc-0123456789abcdef0 \(required with VPC_ENDPOINT=create or LAMBDA_IN_VPC=true\)/);
    assert.match(output, /SUBNET_IDS is required with VPC_ENDPOINT=create or LAMBDA_IN_VPC=true/);
    assert.match(output, /ALLOWED_CIDRS is required with VPC_ENDPOINT=create/);
  });
});
