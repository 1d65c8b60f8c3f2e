// What `npm run dev` and `npm run dev:logs` agree on: where each local service listens, and the placeholder
// credentials the SDK signs with (the stand-in checks that calls are signed, not by whom).
import type { Env } from '../../src/config.ts';

/** Loopback ports of the dev loop; each can be moved with its variable. */
export interface DevPorts {
  /** KAR_DEV_HTTP_PORT: the API Gateway of `serverless offline`, where batches are POSTed. Default 3000. */
  readonly http: number;
  /** KAR_DEV_LAMBDA_PORT: `serverless offline`'s Lambda invoke API. Default 3002. */
  readonly lambda: number;
  /** KAR_DEV_LOGS_PORT: the CloudWatch Logs stand-in. Default 4588. */
  readonly logs: number;
}

/** The region the handler and `dev:logs` sign for; the stand-in accepts any. */
export const DEV_REGION = 'eu-west-1';
/** Placeholder keys: the stand-in checks that calls are signed, not by whom; nothing real to leak. */
export const DEV_CREDENTIALS = { AWS_ACCESS_KEY_ID: 'AKIDLOCALDEVLOOP', AWS_SECRET_ACCESS_KEY: 'local-dev-loop-secret' } as const;

function port(env: Env, variable: string, fallback: number): number {
  const value = env[variable];
  if (value === undefined || value === '') return fallback;
  const number = Number(value);
  if (!/^\d+$/.test(value) || number < 1 || number > 65_535) {
    throw new Error(`${variable} must be a port number from 1 to 65535, got '${value}'`);
  }
  return number;
}

/** The dev loop's ports from the KAR_DEV_*_PORT variables; throws naming the variable when one is not a port. */
export function devPorts(env: Env): DevPorts {
  return { http: port(env, 'KAR_DEV_HTTP_PORT', 3000), lambda: port(env, 'KAR_DEV_LAMBDA_PORT', 3002), logs: port(env, 'KAR_DEV_LOGS_PORT', 4588) };
}
