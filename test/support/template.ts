// Reading a packaged CloudFormation template as CloudFormation would deploy it. The templates carry no conditions
// (parameters are resolved at package time), so every resource listed is one a deploy creates.
import assert from 'node:assert/strict';
import type { Template } from './serverless.ts';

export type Statement = {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
};
export type Resource = Template['Resources'][string];

export const list = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

/** The resources of a type, by logical id. */
export const ofType = (template: Template, type: string): [string, Resource][] =>
  Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);

/** The one resource of a type; fails if there is none or more than one. */
export function only(template: Template, type: string): Resource {
  const found = ofType(template, type);
  assert.equal(found.length, 1, `expected one ${type}, found ${found.length}`);
  return found[0]![1];
}

/** All identity-policy statements in the template: role inline policies and managed policies. */
export function identityStatements(template: Template): Statement[] {
  const roles = ofType(template, 'AWS::IAM::Role').flatMap(([, role]) => (role.Properties!.Policies ?? []).map((policy: any) => policy.PolicyDocument));
  const policies = [...ofType(template, 'AWS::IAM::ManagedPolicy'), ...ofType(template, 'AWS::IAM::Policy')].map(([, policy]) => policy.Properties!.PolicyDocument);
  return [...roles, ...policies].flatMap((document: { Statement: Statement[] }) => document.Statement);
}

/** A resource ARN as written: a plain string, the template of a Fn::Sub, or `GetAtt:<id>.<attribute>`. */
export function arnText(resource: unknown): string {
  if (typeof resource === 'string') return resource;
  const sub = (resource as Record<string, unknown>)['Fn::Sub'];
  if (typeof sub === 'string') return sub;
  if ((resource as Record<string, unknown>)['Fn::GetAtt']) return `GetAtt:${((resource as any)['Fn::GetAtt'] as string[]).join('.')}`;
  throw new Error(`unexpected resource form ${JSON.stringify(resource)}`);
}

/** A CloudWatch metric as an alarm or a publisher names it: namespace, name and the whole dimension set. */
export const metricIdentity = (namespace: string, name: string, dimensions: Record<string, string>): string =>
  `${namespace}/${name}{${Object.entries(dimensions)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([key, value]) => `${key}=${value}`)
    .join(',')}}`;

export interface AlarmMetric {
  readonly id: string;
  readonly identity: string;
  readonly properties: Record<string, any>;
}

/** Every AWS::CloudWatch::Alarm with the metric it watches. */
export function alarmMetrics(template: Template): AlarmMetric[] {
  return ofType(template, 'AWS::CloudWatch::Alarm').map(([id, alarm]) => {
    const properties = alarm.Properties!;
    const dimensions = Object.fromEntries((properties.Dimensions as { Name: string; Value: unknown }[]).map(({ Name, Value }) => [Name, typeof Value === 'string' ? Value : JSON.stringify(Value)]));
    return { id, identity: metricIdentity(properties.Namespace, properties.MetricName, dimensions), properties };
  });
}
