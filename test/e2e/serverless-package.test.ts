// `serverless package` offline, for the default parameters and for "create the VPC endpoint + Lambda in the VPC",
// then assertions on the CloudFormation it writes: private only, resource policy, least privilege, log group,
// queries, alarms and outputs.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { packageService, type PackagedService, runServerless, type Template } from '../support/serverless.ts';

const EXISTING_ENDPOINTS = 'vpce-0a1b2c3d4e5f60718,vpce-0f1e2d3c4b5a69788';
const CREATED = {
  VPC_ENDPOINT: 'create',
  LAMBDA_IN_VPC: 'true',
  VPC_ID: 'vpc-0123456789abcdef0',
  SUBNET_IDS: 'subnet-0aaa1111bbbb2222c,subnet-0ddd3333eeee4444f',
  ALLOWED_CIDRS: '10.20.0.0/16,10.30.1.0/24',
  PRIVATE_DNS: 'true',
  SOURCE_VPC_IDS: 'vpc-0123456789abcdef0',
  CLUSTER_NAME: 'payments',
  LOG_GROUP_NAME: '/aws/eks/payments/cluster',
  KMS_KEY_ARN: 'arn:aws:kms:eu-west-1:111122223333:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0',
  AUTH_TOKEN_KMS_KEY_ARN: 'arn:aws:kms:eu-west-1:111122223333:key/1c2d3e4f-5061-7283-94a5-b6c7d8e9f0a1',
};

type Statement = { Sid?: string; Effect: string; Action: string | string[]; Resource: unknown; Condition?: Record<string, Record<string, unknown>> };

/** Resources of a type that a deploy would create (their Condition, if any, holds). */
const ofType = (template: Template, type: string) =>
  Object.entries(template.Resources).filter(([, resource]) => resource.Type === type && (resource.Condition === undefined || holds(template, { Condition: resource.Condition })));
const only = (template: Template, type: string) => {
  const found = ofType(template, type);
  assert.equal(found.length, 1, `expected one ${type}, found ${found.length}`);
  return found[0]![1];
};
const list = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

/**
 * Evaluates a template condition. Every condition here compares parameters that serverless has already substituted,
 * so Fn::Equals always sees two literals and the template can be read as CloudFormation would deploy it.
 */
function holds(template: Template, condition: unknown): boolean {
  const item = condition as Record<string, any>;
  if ('Condition' in item) return holds(template, template.Conditions![item.Condition]);
  if ('Fn::Equals' in item) {
    const [left, right] = item['Fn::Equals'];
    assert.ok(typeof left === 'string' && typeof right === 'string', `condition compares non-literals: ${JSON.stringify(item)}`);
    return left === right;
  }
  if ('Fn::Not' in item) return !holds(template, item['Fn::Not'][0]);
  if ('Fn::And' in item) return item['Fn::And'].every((part: unknown) => holds(template, part));
  if ('Fn::Or' in item) return item['Fn::Or'].some((part: unknown) => holds(template, part));
  throw new Error(`unknown condition ${JSON.stringify(item)}`);
}

/** The statements a policy has once deployed: Fn::If resolved by its condition, AWS::NoValue dropped. */
function statementsOf(template: Template, document: { Statement: unknown[] }): Statement[] {
  const expand = (item: any): Statement[] => {
    if (item && 'Fn::If' in item) {
      const [name, whenTrue, whenFalse] = item['Fn::If'];
      return expand(holds(template, { Condition: name }) ? whenTrue : whenFalse);
    }
    if (item && item.Ref === 'AWS::NoValue') return [];
    return [item as Statement];
  };
  return document.Statement.flatMap(expand);
}

/** All identity-policy statements in the template: role inline policies and managed policies. */
function identityStatements(template: Template): Statement[] {
  const roles = ofType(template, 'AWS::IAM::Role').flatMap(([, role]) => (role.Properties!.Policies ?? []).map((policy: any) => policy.PolicyDocument));
  const policies = [...ofType(template, 'AWS::IAM::ManagedPolicy'), ...ofType(template, 'AWS::IAM::Policy')].map(([, policy]) => policy.Properties!.PolicyDocument);
  return [...roles, ...policies].flatMap((document) => statementsOf(template, document));
}

/** A resource ARN as written: a plain string or the template of a Fn::Sub. */
const arnText = (resource: unknown): string => {
  if (typeof resource === 'string') return resource;
  const sub = (resource as Record<string, unknown>)['Fn::Sub'];
  if (typeof sub === 'string') return sub;
  if ((resource as Record<string, unknown>)['Fn::GetAtt']) return `GetAtt:${((resource as any)['Fn::GetAtt'] as string[]).join('.')}`;
  throw new Error(`unexpected resource form ${JSON.stringify(resource)}`);
};

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

function assertLeastPrivilege(template: Template, { parameterArn, groupName }: { parameterArn: string; groupName: string }): void {
  assert.equal(template.Resources.IamRoleLambdaExecution, undefined, "the framework's default role must not be created");
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
      // Only the streams of a named group and interfaces not yet created may be left open.
      const named = resource.replace(/:log-stream:\*$/, '').replace(/:network-interface\/\*$/, ':network-interface');
      assert.ok(!named.includes('*'), `statement ${statement.Sid}: ${resource} is not a named resource`);
    }
  }
  const byAction = (action: string) => statements.filter((statement) => list(statement.Action).includes(action)).flatMap((statement) => list(statement.Resource).map(arnText));
  const groupArn = `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:${groupName}`;
  assert.deepEqual(byAction('logs:PutLogEvents').sort(), [groupArn, `${groupArn}:log-stream:*`, 'GetAtt:ReceiveLogGroup.Arn'].sort());
  assert.deepEqual(byAction('ssm:GetParameter'), [parameterArn]);
  const role = only(template, 'AWS::IAM::Role');
  assert.deepEqual(only(template, 'AWS::Lambda::Function').Properties!.Role, { 'Fn::GetAtt': ['ReceiveRole', 'Arn'] });
  assert.equal(role.Properties!.AssumeRolePolicyDocument.Statement[0].Principal.Service, 'lambda.amazonaws.com');
}

function assertLogSearch(template: Template, groupName: string): void {
  const group = template.Resources.AuditLogGroup!;
  assert.equal(group.Type, 'AWS::Logs::LogGroup');
  assert.equal(group.Properties!.LogGroupName, groupName);
  assert.equal(typeof group.Properties!.RetentionInDays, 'number');
  assert.ok(group.Properties!.KmsKeyId, 'the audit log group must be encrypted with a KMS key');
  assert.notEqual(template.Resources.ReceiveLogGroup!.Properties!.LogGroupName, groupName, "the function's own log group is separate");

  const queries = ofType(template, 'AWS::Logs::QueryDefinition').map(([, query]) => query.Properties!);
  const names = queries.map((query) => query.Name as string);
  for (const question of ['rbac', 'secrets', 'exec', 'anonymous', '403', 'kube-system', '5xx', 'configmap', 'active-users']) {
    assert.ok(names.some((name) => name.includes(question)), `no saved query about ${question} in ${names.join(', ')}`);
  }
  for (const query of queries) assert.deepEqual(query.LogGroupNames, [groupName]);

  const filter = only(template, 'AWS::Logs::MetricFilter').Properties!;
  assert.deepEqual(filter.LogGroupName, { Ref: 'AuditLogGroup' });
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
  before(async () => {
    packaged = await packageService('prod', { VPC_ENDPOINT_IDS: EXISTING_ENDPOINTS });
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
    const forLogs = statementsOf(packaged.template, key.KeyPolicy).find((statement: any) => statement.Principal?.Service?.['Fn::Sub'] === 'logs.${AWS::Region}.amazonaws.com');
    assert.ok(forLogs, 'no key policy statement for CloudWatch Logs');
    assert.deepEqual(forLogs.Condition?.ArnEquals?.['kms:EncryptionContext:aws:logs:arn'], {
      'Fn::Sub': 'arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/kube-audit-relay/prod/audit',
    });
    assert.deepEqual(packaged.template.Resources.AuditLogGroup!.Properties!.KmsKeyId, { 'Fn::If': ['CreateKmsKey', { 'Fn::GetAtt': ['AuditLogKey', 'Arn'] }, 'create'] });
    assert.ok(holds(packaged.template, { Condition: 'CreateKmsKey' }));
  });

  it('is ready for log search: retention, encryption, saved queries and alarms', () => {
    assertLogSearch(packaged.template, '/kube-audit-relay/prod/audit');
    assert.equal(packaged.template.Resources.AuditLogGroup!.Properties!.RetentionInDays, 365);
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
  before(async () => {
    packaged = await packageService('staging', CREATED);
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
      group.SecurityGroupIngress.map((rule: any) => [rule.IpProtocol, rule.FromPort, rule.ToPort, rule.CidrIp]),
      CREATED.ALLOWED_CIDRS.split(',').map((cidr) => ['tcp', 443, 443, cidr]),
    );
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
    assert.ok(!holds(packaged.template, { Condition: 'CreateKmsKey' }), 'no key is created when one is given');
    assert.deepEqual(packaged.template.Resources.AuditLogGroup!.Properties!.KmsKeyId['Fn::If'][2], CREATED.KMS_KEY_ARN);
    assertLogSearch(packaged.template, CREATED.LOG_GROUP_NAME);
    assertFunction(packaged.template);
  });

  it('outputs the private invoke URL naming the created endpoint', () => {
    const url = invokeUrl(packaged.template);
    assert.equal(url.text, 'https://${ApiGatewayRestApi}-${VpcEndpointId}.execute-api.${AWS::Region}.${AWS::URLSuffix}/staging/');
    assert.deepEqual(url.vpce, { Ref: 'ExecuteApiVpcEndpoint' });
    assert.equal(packaged.template.Outputs!.AuthTokenParameterName!.Value, '/kube-audit-relay/payments/auth-token');
  });
});

describe('serverless package: AUTH_MODE=none', () => {
  let packaged: PackagedService;
  before(async () => {
    packaged = await packageService('open', { VPC_ENDPOINT_IDS: EXISTING_ENDPOINTS, AUTH_MODE: 'none' });
  });

  it('gives the function no token parameter and no permission to read one', () => {
    const variables = only(packaged.template, 'AWS::Lambda::Function').Properties!.Environment.Variables;
    assert.equal(variables.AUTH_MODE, 'none');
    assert.equal(variables.AUTH_TOKEN_PARAMETER, '');
    const statements = identityStatements(packaged.template);
    assert.deepEqual(statements.filter((statement) => list(statement.Action).some((action) => action.startsWith('ssm:') || action.startsWith('kms:'))), []);
    assertPrivateOnly(packaged.template);
  });
});

describe('serverless package: refused settings', () => {
  it('names the missing VPC_ENDPOINT_IDS instead of packaging an API nobody can reach', async () => {
    const run = await runServerless(['package', '--stage', 'prod', '--package', '/dev/null/never']);
    assert.notEqual(run.code, 0);
    assert.match(run.stdout + run.stderr, /VPC_ENDPOINT_IDS/);
  });

  it('refuses an ALLOWED_CIDRS entry that is not a CIDR', async () => {
    const run = await runServerless(['package', '--stage', 'prod', '--package', '/dev/null/never', ...Object.entries({ ...CREATED, ALLOWED_CIDRS: '10.0.0.0/16,apiserver' }).flatMap(([key, value]) => ['--param', `${key}=${value}`])]);
    assert.notEqual(run.code, 0);
    assert.match(run.stdout + run.stderr, /ALLOWED_CIDRS entry "apiserver" is not an IPv4 or IPv6 CIDR/);
  });
});
