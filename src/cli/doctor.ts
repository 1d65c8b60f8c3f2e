import { DOCTOR_STEPS, type DoctorState } from '../doctor/steps.ts';
import { runSteps, type StepOutcome } from '../doctor/step.ts';
import { integerFlag, parseCommandLine, UsageError, type Command } from './command.ts';
import { VERSION } from './version.ts';

const usage = `usage: kube-audit-relay doctor --kubeconfig FILE [--timeout SECONDS]

Does what kube-apiserver will do with its audit webhook kubeconfig, step by step, and says which step fails and
how to fix it: load the kubeconfig as client-go does (current-context, server URL, credentials), resolve the
server's name, connect, verify TLS with the kubeconfig's CA and server name, POST a canary EventList with the
kubeconfig's credentials, and check the relay's answer says it stored it. Run it on a control-plane node.

The canary is one synthetic event (user kube-audit-relay:doctor) annotated kube-audit-relay.io/canary: "true";
the relay stores it like any event and counts it as "canaries" in its answer and log line.

flags:
  --kubeconfig FILE        the file given to kube-apiserver as --audit-webhook-config-file
  --timeout SECONDS        per network step (default 30, the API server's per-attempt timeout)
  -h, --help               this text

Exit status: 0 when every step passed, 1 when one failed (the rest are skipped), 2 for a bad command line.`;

/** \`kube-audit-relay doctor\`: checks a webhook kubeconfig against the running relay, as the API server would. */
export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'check a webhook kubeconfig end to end: the relay must store a canary event',
  usage,
  async run(args, io) {
    const { values } = parseCommandLine(args, { kubeconfig: { type: 'string' }, timeout: { type: 'string' } });
    if (values.kubeconfig === undefined) throw new UsageError('--kubeconfig FILE is required: the webhook kubeconfig kube-apiserver reads');
    const timeoutSeconds = integerFlag('timeout', values.timeout, 1, 300) ?? 30;
    const state: DoctorState = { kubeconfigPath: values.kubeconfig, timeoutMs: timeoutSeconds * 1000, version: VERSION, now: Date.now };
    const outcomes = await runSteps(DOCTOR_STEPS, state, io.signal);
    io.stdout.write(`kube-audit-relay doctor ${values.kubeconfig}\n${outcomes.map(renderOutcome).join('')}`);
    const failed = outcomes.find((outcome) => outcome.status === 'fail');
    io.stdout.write(failed ? `FAILED at step ${failed.step}\n` : 'every step passed: the API server can deliver audit events to the relay\n');
    return failed ? 1 : 0;
  },
};

function renderOutcome(outcome: StepOutcome): string {
  const label = outcome.step.padEnd(11);
  if (outcome.status === 'skipped') return `  skip  ${label}(needs the steps before it)\n`;
  if (outcome.status === 'ok') return `  ok    ${label}${outcome.detail}\n`;
  return `  FAIL  ${label}${outcome.detail}\n        fix: ${outcome.fix}\n`;
}
