import { RelayError } from '../errors.ts';

/** A check that did not pass: what was found, and what to change so it passes. */
export class StepFailure extends RelayError {
  override readonly name = 'StepFailure';

  constructor(
    message: string,
    /** What to change, naming the kubeconfig field or relay flag involved. */
    readonly fix: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** One thing the API server does on its way to a stored batch, checked the same way. */
export interface Step<S> {
  /** Short kebab-case name printed in the report. */
  readonly name: string;
  /** Resolves with what was found; throws StepFailure when the API server would fail here. */
  run(state: S, signal: AbortSignal): Promise<string>;
}

/** How one step went. */
export type StepOutcome =
  | { readonly step: string; readonly status: 'ok'; readonly detail: string }
  | { readonly step: string; readonly status: 'fail'; readonly detail: string; readonly fix: string }
  | { readonly step: string; readonly status: 'skipped' };

/** Runs the steps in order; after the first failure the rest are reported as skipped, since each needs the one before. */
export async function runSteps<S>(steps: readonly Step<S>[], state: S, signal: AbortSignal): Promise<StepOutcome[]> {
  const outcomes: StepOutcome[] = [];
  let failed = false;
  for (const step of steps) {
    if (failed) {
      outcomes.push({ step: step.name, status: 'skipped' });
      continue;
    }
    try {
      outcomes.push({ step: step.name, status: 'ok', detail: await step.run(state, signal) });
    } catch (error) {
      if (!(error instanceof StepFailure)) throw error;
      failed = true;
      outcomes.push({ step: step.name, status: 'fail', detail: error.message, fix: error.fix });
    }
  }
  return outcomes;
}
