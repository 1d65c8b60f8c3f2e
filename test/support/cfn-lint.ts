// Runs the installed cfn-lint (AWS's CloudFormation linter, a Python tool) on templates, as a platform team would.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Template } from './serverless.ts';

/** Why cfn-lint cannot run here, or undefined when it can. */
export function cfnLintMissing(): string | undefined {
  const probe = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8', timeout: 60_000 });
  if (probe.error) return `cfn-lint is not installed (${probe.error.message}); install it with pip install cfn-lint`;
  return probe.status === 0 ? undefined : `cfn-lint --version exited with ${probe.status}`;
}

export interface LintRun {
  readonly code: number | null;
  /** One line per finding: `<file>:<line>:<column>:<end line>:<end column>:<rule>:<message>`, file named after its key. */
  readonly findings: string[];
  readonly stderr: string;
}

/** cfn-lint over every template at once (one start-up of its schemas instead of one per template). */
export async function cfnLint(templates: Record<string, Template>, timeoutMs: number): Promise<LintRun> {
  const dir = mkdtempSync(join(tmpdir(), 'kube-audit-relay-cfn-lint-'));
  try {
    const files = Object.entries(templates).map(([name, template]) => {
      const file = join(dir, `${name}.json`);
      writeFileSync(file, JSON.stringify(template, null, 1));
      return file;
    });
    return await new Promise<LintRun>((resolve, reject) => {
      const child = spawn('cfn-lint', ['--format', 'parseable', ...files], { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL' });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, findings: stdout.split('\n').filter((line) => line !== '').map((line) => line.replace(`${dir}/`, '')), stderr }));
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
