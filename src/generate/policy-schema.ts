import { Level, Stage } from '../audit/types.ts';

const POLICY_FIELDS = ['apiVersion', 'kind', 'metadata', 'rules', 'omitStages', 'omitManagedFields'];
const RULE_FIELDS = ['level', 'users', 'userGroups', 'verbs', 'resources', 'namespaces', 'nonResourceURLs', 'omitStages', 'omitManagedFields'];
const GROUP_RESOURCES_FIELDS = ['group', 'resources', 'resourceNames'];
const STRING_LISTS = ['users', 'userGroups', 'verbs', 'namespaces', 'nonResourceURLs'];
const LEVELS: readonly string[] = Object.values(Level);
const STAGES: readonly string[] = Object.values(Stage);
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isStringList = (value: unknown): value is string[] => Array.isArray(value) && value.every((item) => typeof item === 'string');

/**
 * Checks a parsed policy file against the audit.k8s.io/v1 Policy schema and the API server's validation
 * (kubernetes/apiserver pkg/apis/audit/validation and policy.LoadPolicyFromBytes): known fields only, at least one
 * rule, known levels and stages, nonResourceURLs starting with `/` with `*` only at the end and never beside
 * resources or namespaces, group names that are DNS subdomains, resourceNames only with resources.
 * Returns every problem found, each prefixed with its path; empty when the policy is valid.
 */
export function validatePolicy(policy: unknown): string[] {
  const problems: string[] = [];
  const problem = (path: string, message: string): void => void problems.push(`${path}: ${message}`);
  if (!isObject(policy)) return ['policy: must be a mapping'];
  unknownFields(policy, POLICY_FIELDS, 'policy', problem);
  if (policy.apiVersion !== 'audit.k8s.io/v1') problem('apiVersion', `must be audit.k8s.io/v1, got ${JSON.stringify(policy.apiVersion)}`);
  if (policy.kind !== 'Policy') problem('kind', `must be Policy, got ${JSON.stringify(policy.kind)}`);
  if (policy.metadata !== undefined && !isObject(policy.metadata)) problem('metadata', 'must be a mapping');
  stages(policy.omitStages, 'omitStages', problem);
  if (policy.omitManagedFields !== undefined && typeof policy.omitManagedFields !== 'boolean') problem('omitManagedFields', 'must be true or false');
  if (!Array.isArray(policy.rules) || policy.rules.length === 0) {
    problem('rules', 'must be a non-empty list: the API server refuses a policy with 0 rules');
    return problems;
  }
  policy.rules.forEach((rule: unknown, index) => validateRule(rule, `rules[${index}]`, problem));
  return problems;
}

type Report = (path: string, message: string) => void;

function validateRule(rule: unknown, path: string, problem: Report): void {
  if (!isObject(rule)) return problem(path, 'must be a mapping');
  unknownFields(rule, RULE_FIELDS, path, problem);
  if (typeof rule.level !== 'string' || !LEVELS.includes(rule.level)) {
    problem(`${path}.level`, `must be one of ${LEVELS.join(', ')}, got ${JSON.stringify(rule.level)}`);
  }
  for (const field of STRING_LISTS) {
    if (rule[field] !== undefined && !isStringList(rule[field])) problem(`${path}.${field}`, 'must be a list of strings');
  }
  stages(rule.omitStages, `${path}.omitStages`, problem);
  if (rule.omitManagedFields !== undefined && typeof rule.omitManagedFields !== 'boolean') problem(`${path}.omitManagedFields`, 'must be true or false');
  if (isStringList(rule.nonResourceURLs)) {
    rule.nonResourceURLs.forEach((url, index) => {
      if (url === '*') return;
      if (!url.startsWith('/')) problem(`${path}.nonResourceURLs[${index}]`, `${JSON.stringify(url)} must begin with '/'`);
      if (url.slice(0, -1).includes('*')) problem(`${path}.nonResourceURLs[${index}]`, `${JSON.stringify(url)} may have '*' only as its last character`);
    });
    const hasResources = (Array.isArray(rule.resources) && rule.resources.length > 0) || (Array.isArray(rule.namespaces) && rule.namespaces.length > 0);
    if (rule.nonResourceURLs.length > 0 && hasResources) {
      problem(`${path}.nonResourceURLs`, 'a rule cannot apply to both resources (or namespaces) and non-resource URLs');
    }
  }
  if (rule.resources === undefined) return;
  if (!Array.isArray(rule.resources)) return problem(`${path}.resources`, 'must be a list of {group, resources, resourceNames}');
  rule.resources.forEach((entry: unknown, index) => {
    const at = `${path}.resources[${index}]`;
    if (!isObject(entry)) return problem(at, 'must be a mapping');
    unknownFields(entry, GROUP_RESOURCES_FIELDS, at, problem);
    if (entry.group !== undefined && (typeof entry.group !== 'string' || (entry.group !== '' && !DNS1123_SUBDOMAIN.test(entry.group)))) {
      problem(`${at}.group`, 'must be "" (the core group) or a lower-case DNS subdomain such as apps or rbac.authorization.k8s.io');
    }
    for (const field of ['resources', 'resourceNames']) {
      if (entry[field] !== undefined && !isStringList(entry[field])) problem(`${at}.${field}`, 'must be a list of strings');
    }
    if (isStringList(entry.resourceNames) && entry.resourceNames.length > 0 && !(isStringList(entry.resources) && entry.resources.length > 0)) {
      problem(`${at}.resourceNames`, 'needs at least one entry in resources');
    }
  });
}

function stages(value: unknown, path: string, problem: Report): void {
  if (value === undefined) return;
  if (!isStringList(value)) return problem(path, 'must be a list of stages');
  value.forEach((stage, index) => {
    if (!STAGES.includes(stage)) problem(`${path}[${index}]`, `must be one of ${STAGES.join(', ')}, got ${JSON.stringify(stage)}`);
  });
}

function unknownFields(value: Record<string, unknown>, known: readonly string[], path: string, problem: Report): void {
  for (const field of Object.keys(value)) {
    if (!known.includes(field)) problem(path, `unknown field ${JSON.stringify(field)}; known: ${known.join(', ')}`);
  }
}
