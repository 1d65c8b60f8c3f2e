import { PolicyPreset, POLICY_PRESETS, renderPolicy } from '../generate/policy-presets.ts';
import { parseCommandLine, UsageError, type Command } from './command.ts';
import { writeOutput } from './output.ts';

const presets = Object.values(PolicyPreset);

const usage = `usage: kube-audit-relay policy --preset ${presets.join('|')} [-o FILE]

Writes an audit.k8s.io/v1 Policy for kube-apiserver's --audit-policy-file.

presets:
${presets.map((preset) => `  ${preset.padEnd(9)}${POLICY_PRESETS[preset].summary}`).join('\n')}

flags:
  --preset NAME     which policy (required)
  -o, --output FILE write it to FILE instead of stdout
  -h, --help        this text`;

/** \`kube-audit-relay policy\`: writes one of the audit policy presets. */
export const policyCommand: Command = {
  name: 'policy',
  summary: 'write an audit policy: minimal, default, verbose or cis',
  usage,
  async run(args, io) {
    const { values } = parseCommandLine(args, { preset: { type: 'string' }, output: { type: 'string', short: 'o' } });
    const preset = values.preset;
    if (preset === undefined) throw new UsageError(`--preset is required: one of ${presets.join(', ')}`);
    if (!(presets as string[]).includes(preset)) throw new UsageError(`unknown --preset '${preset}': use one of ${presets.join(', ')}`);
    await writeOutput(io, values.output, renderPolicy(preset as PolicyPreset));
    return 0;
  },
};
