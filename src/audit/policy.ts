import { ruleMatches, type RuleSelector } from './policy-rule.ts';
import { Level, Stage, type AuditEvent } from './types.ts';

/** One rule of an audit.k8s.io/v1 Policy. */
export interface PolicyRule extends RuleSelector {
  /** None, Metadata, Request or RequestResponse. */
  readonly level: Level;
  /** Stages not to record for requests this rule matches, in addition to the policy's own omitStages. */
  readonly omitStages?: readonly Stage[];
  /** Overrides the policy's omitManagedFields for requests this rule matches. */
  readonly omitManagedFields?: boolean;
}

/** An audit.k8s.io/v1 Policy, as `--audit-policy-file` reads it. */
export interface AuditPolicy {
  readonly apiVersion: 'audit.k8s.io/v1';
  readonly kind: 'Policy';
  /** Stages never recorded, whatever rule matches. */
  readonly omitStages?: readonly Stage[];
  /** Leave managedFields out of request and response bodies. Default false. */
  readonly omitManagedFields?: boolean;
  /** Evaluated in order; the first that matches decides; none matching means level None. */
  readonly rules: readonly PolicyRule[];
}

/** What the API server decides to record about one request. */
export interface AuditDecision {
  readonly level: Level;
  readonly omitStages: readonly Stage[];
  readonly omitManagedFields: boolean;
}

/**
 * Evaluates a policy for the request an event describes, as kubernetes/apiserver pkg/audit/policy/checker.go does:
 * the first matching rule wins, its omitStages are unioned with the policy's, and no match means level None.
 */
export function evaluatePolicy(policy: AuditPolicy, event: AuditEvent): AuditDecision {
  const rule = policy.rules.find((candidate) => ruleMatches(candidate, event));
  const policyStages = policy.omitStages ?? [];
  if (!rule) return { level: Level.None, omitStages: policyStages, omitManagedFields: policy.omitManagedFields ?? false };
  return {
    level: rule.level,
    omitStages: [...new Set([...policyStages, ...(rule.omitStages ?? [])])],
    omitManagedFields: rule.omitManagedFields ?? policy.omitManagedFields ?? false,
  };
}

const LEVEL_ORDER: readonly Level[] = [Level.None, Level.Metadata, Level.Request, Level.RequestResponse];

/** Whether level `a` records at least as much as level `b` (RequestResponse > Request > Metadata > None). */
export const levelAtLeast = (a: Level, b: Level): boolean => LEVEL_ORDER.indexOf(a) >= LEVEL_ORDER.indexOf(b);

/** Long-running requests, for which the API server also emits ResponseStarted (kube-apiserver's LongRunningRequestCheck). */
const LONG_RUNNING_VERBS = new Set(['watch', 'proxy']);
const LONG_RUNNING_SUBRESOURCES = new Set(['attach', 'exec', 'proxy', 'log', 'portforward']);

/**
 * The events the API server writes for one request under a decision: none at level None; otherwise one per stage
 * the request passes (RequestReceived, ResponseStarted for long-running ones: watch, exec, attach, portforward, proxy, log;
 * ResponseComplete)
 * that is not omitted.
 */
export function recordedStages(decision: AuditDecision, event: AuditEvent): Stage[] {
  if (decision.level === Level.None) return [];
  const streaming = LONG_RUNNING_VERBS.has(event.verb) || LONG_RUNNING_SUBRESOURCES.has(event.objectRef?.subresource ?? '');
  const stages: Stage[] = [Stage.RequestReceived, ...(streaming ? [Stage.ResponseStarted] : []), Stage.ResponseComplete];
  return stages.filter((stage) => !decision.omitStages.includes(stage));
}
