import type { DetectionMatch } from './detector.ts';
import type { DetectionRule } from './rule.ts';

/** Matches per rule over a run, for `detect --summary` and the hit-rate table of docs/detections.md. */
export interface RuleHits {
  readonly rule: string;
  readonly severity: string;
  readonly matches: number;
}

export class HitCounter {
  #events = 0;
  readonly #hits = new Map<string, number>();

  constructor(private readonly rules: readonly DetectionRule[]) {}

  /** Counts one event and its matches. */
  add(matches: readonly DetectionMatch[]): void {
    this.#events++;
    for (const match of matches) this.#hits.set(match.rule, (this.#hits.get(match.rule) ?? 0) + 1);
  }

  hits(): RuleHits[] {
    return this.rules.map((rule) => ({ rule: rule.id, severity: rule.severity, matches: this.#hits.get(rule.id) ?? 0 }));
  }

  /** A markdown table: rule, severity, matches, share of events. */
  table(): string {
    const rate = (matches: number) => (this.#events === 0 ? '0' : `${((100 * matches) / this.#events).toFixed(2)}%`);
    return [
      `| Rule | Severity | Matches | Of ${this.#events} events |`,
      '|---|---|---|---|',
      ...this.hits().map((hit) => `| \`${hit.rule}\` | ${hit.severity} | ${hit.matches} | ${rate(hit.matches)} |`),
    ].join('\n');
  }
}
