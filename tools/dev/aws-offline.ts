// `npm run dev`: the Lambda handler under `serverless offline`, writing to a local CloudWatch Logs (the stand-in the
// tests use) instead of AWS, so the whole AWS path runs on this machine with nothing sent off it. No stack creates the
// groups: the sink does on first use, as it would after a group was deleted (a cold group as Infrequent Access).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startCloudWatchLogsStandIn } from './cloudwatch-logs-standin.ts';
import { DEV_CREDENTIALS, DEV_REGION, devPorts } from './ports.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SERVERLESS_BIN = fileURLToPath(new URL('../../node_modules/serverless/bin/serverless.js', import.meta.url));
const DENY_NETWORK = fileURLToPath(new URL('./deny-network.cjs', import.meta.url));

const ports = devPorts(process.env);
const cloudWatch = await startCloudWatchLogsStandIn({ port: ports.logs }).catch((error: unknown) => {
  const inUse = (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
  process.stderr.write(
    inUse
      ? `port ${ports.logs} is in use (another npm run dev?): stop it, or set KAR_DEV_LOGS_PORT to a free port (and the same for npm run dev:logs)\n`
      : `cannot start the CloudWatch Logs stand-in: ${(error as Error).message}\n`,
  );
  process.exit(1);
});
process.stdout.write(`CloudWatch Logs stand-in: ${cloudWatch.endpoint} (KAR_DEV_LOGS_PORT); \`npm run dev:logs\` prints what it stored\n`);

// Later --param flags win, so the user's own (after `npm run dev --`) override these defaults.
const args = [
  SERVERLESS_BIN,
  'offline',
  '--stage', 'local',
  '--host', '127.0.0.1',
  '--httpPort', String(ports.http),
  '--lambdaPort', String(ports.lambda),
  // The same URL as `npm start`'s receiver: http://127.0.0.1:3000/
  '--noPrependStageInUrl',
  '--param', 'VPC_ENDPOINT_IDS=vpce-00000000000000000',
  '--param', 'AUTH_MODE=none',
  ...process.argv.slice(2),
];
const env: NodeJS.ProcessEnv = {
  ...process.env,
  ...DEV_CREDENTIALS,
  AWS_REGION: DEV_REGION,
  AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: cloudWatch.endpoint,
  // Any connection beyond loopback fails at once and says so on stderr, so nothing reaches AWS by mistake.
  NODE_OPTIONS: [process.env.NODE_OPTIONS, `--require ${DENY_NETWORK}`].filter(Boolean).join(' '),
};
// A profile or session token from the user's shell must not sit beside the placeholder keys.
delete env.AWS_PROFILE;
delete env.AWS_SESSION_TOKEN;
const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: 'inherit', env });
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (child.exitCode === null) child.kill(signal);
  });
}
const code = await new Promise<number>((resolve) => child.once('close', (exitCode, signal) => resolve(exitCode ?? (signal ? 0 : 1))));
await cloudWatch.close();
process.exitCode = code;
