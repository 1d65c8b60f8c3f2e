import type { DropRule } from '../audit/filter.ts';
import type { Condition } from './condition.ts';

export const Severity = {
  Low: 'low',
  Medium: 'medium',
  High: 'high',
  Critical: 'critical',
} as const;
export type Severity = (typeof Severity)[keyof typeof Severity];

/** Severities that get a metric filter and alarm on AWS and a scheduled query alert on Azure. */
const ALERTING_SEVERITIES: readonly Severity[] = [Severity.High, Severity.Critical];

/** A rule alerts on a count in a window instead of on every event (401/403 bursts). */
export interface Threshold {
  /** Events in the window that make an alert; at least 1. */
  readonly count: number;
  /** Window length in minutes: 5, 10, 15, 30 or 60 (what both alarm periods and query windows accept). */
  readonly minutes: number;
}

/** One detection, as the rule source (detections/rules.yaml) declares it, with its allowlists resolved. */
export interface DetectionRule {
  /** Stable kebab-case id: metric names, saved-search names and `detect` output use it. */
  readonly id: string;
  readonly title: string;
  readonly severity: Severity;
  /** MITRE ATT&CK technique id and name, where one fits. */
  readonly attack?: string;
  /** Why the activity matters. */
  readonly why: string;
  /** What a responder does first. */
  readonly response: string;
  /** When a healthy cluster does this too. */
  readonly falsePositives: string;
  /** The audit Policy rule fields (and `stages`), matched by the drop-rule matcher. */
  readonly match: DropRule;
  /** Further conditions on any event field; all must hold. */
  readonly where: Condition;
  /** Identities and cases the rule ignores: the allowlists it names and its own `unless`. */
  readonly exceptions: Condition;
  /** Names of the allowlists applied, for the docs. */
  readonly allowlists: readonly string[];
  readonly threshold?: Threshold;
}

/** Whether a rule alerts (metric filter + alarm, scheduled query rule) rather than only being a saved query. */
export const alerts = (rule: DetectionRule): boolean => ALERTING_SEVERITIES.includes(rule.severity);
