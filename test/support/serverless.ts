// Runs the installed `serverless` (osls) on this repository's serverless.yml as a child process, offline: fake
// credentials, and a preload that refuses every connection that is not to loopback.
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SERVERLESS_BIN = join(REPO_ROOT, 'node_modules/serverless/bin/serverless.js');
const DENY_NETWORK = fileURLToPath(new URL('../../tools/dev/deny-network.cjs', import.meta.url));

/** Environment for `serverless` runs: fake credentials only, so a call to AWS could never succeed anyway. */
export function offlineEnvironment(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, TMPDIR: tmpdir() };
  return {
    ...env,
    AWS_ACCESS_KEY_ID: 'AKIDPACKAGEONLY',
    AWS_SECRET_ACCESS_KEY: 'package-only-secret',
    AWS_REGION: 'eu-west-1',
    NODE_OPTIONS: `--require ${DENY_NETWORK}`,
    ...extra,
  };
}

export interface ServerlessRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `serverless <args>` in the repository root (or `cwd`) and waits for it to exit. */
export function runServerless(args: readonly string[], env: NodeJS.ProcessEnv = offlineEnvironment(), cwd = REPO_ROOT): Promise<ServerlessRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SERVERLESS_BIN, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    // `serverless package` takes 10-25 s here; one that hangs is killed rather than outliving its test.
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A CloudFormation template as `serverless package` writes it. */
export interface Template {
  readonly Conditions?: Record<string, unknown>;
  readonly Resources: Record<string, { Type: string; Condition?: string; Properties?: Record<string, any>; DependsOn?: string[] }>;
  readonly Outputs?: Record<string, { Value: unknown; Description?: string }>;
}

export interface PackagedService extends ServerlessRun {
  readonly template: Template;
  /** serverless-state.json: the resolved service configuration, e.g. settings the framework applies outside the template. */
  readonly state: string;
}

/** What `serverless package` reads from the repository; node_modules is linked, not copied. */
const SERVICE_FILES = ['serverless.yml', 'package.json', 'tsconfig.json', 'infra', 'functions', 'src'];

/**
 * `serverless package --package <temp dir>` with the given stage and params, read and removed; rejects if it fails.
 * It runs in a copy of the service: serverless-esbuild moves its artifacts through the service's own `.serverless/`,
 * which the framework clears when it starts packaging, so two runs in one directory break each other.
 */
export async function packageService(stage: string, params: Record<string, string>): Promise<PackagedService> {
  const dir = mkdtempSync(join(tmpdir(), `kube-audit-relay-package-${stage}-`));
  const service = join(dir, 'service');
  for (const file of SERVICE_FILES) cpSync(join(REPO_ROOT, file), join(service, file), { recursive: true });
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(service, 'node_modules'));
  const paramArgs = Object.entries(params).flatMap(([key, value]) => ['--param', `${key}=${value}`]);
  try {
    const run = await runServerless(['package', '--stage', stage, '--package', join(dir, 'package'), ...paramArgs], offlineEnvironment(), service);
    if (run.code !== 0) throw new Error(`serverless package (${stage}) exited with ${run.code}:\n${run.stdout}\n${run.stderr}`);
    const template = JSON.parse(readFileSync(join(dir, 'package', 'cloudformation-template-update-stack.json'), 'utf8')) as Template;
    return { ...run, template, state: readFileSync(join(dir, 'package', 'serverless-state.json'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A free loopback port: bound, read and released (serverless offline takes port numbers, not sockets). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface OfflineHandle {
  /** e.g. http://127.0.0.1:41234/local/ */
  readonly url: string;
  output(): string;
  stop(): Promise<void>;
}

/** Starts `serverless offline` on free loopback ports and resolves once it serves requests. */
export async function startOffline(stage: string, params: Record<string, string>, env: NodeJS.ProcessEnv): Promise<OfflineHandle> {
  const [httpPort, lambdaPort] = [await freePort(), await freePort()];
  const paramArgs = Object.entries(params).flatMap(([key, value]) => ['--param', `${key}=${value}`]);
  const args = ['offline', '--stage', stage, '--host', '127.0.0.1', '--httpPort', String(httpPort), '--lambdaPort', String(lambdaPort), ...paramArgs];
  // Its own process group, so stopping it also stops the workers it starts.
  const child = spawn(process.execPath, [SERVERLESS_BIN, ...args], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const stopGroup = () => {
    if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGTERM');
  };
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      stopGroup();
      reject(new Error(`serverless offline did not start within 60 s:\n${output}`));
    }, 60_000);
    const collect = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (output.includes('Server ready:')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.once('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`serverless offline exited with ${code} before serving:\n${output}`));
    });
  });
  return {
    url: `http://127.0.0.1:${httpPort}/${stage}/`,
    output: () => output,
    stop: async () => {
      stopGroup();
      await exited;
    },
  };
}
