import { readFileSync } from 'node:fs';
import { kubeconfigProblems, renderWebhookKubeconfig, type WebhookKubeconfigSpec } from '../generate/kubeconfig.ts';
import { OutputName, parseStackOutputs, type StackOutputs } from '../generate/stack-outputs.ts';
import { InputError, parseCommandLine, unreadable, UsageError, type Command } from './command.ts';
import { CONNECTION_OPTIONS, CONNECTION_USAGE, readConnection } from './credentials.ts';
import { writeOutput } from './output.ts';

const usage = `usage: kube-audit-relay kubeconfig (--server URL | --from-stack FILE) [credentials] [tls] [--embed] [-o FILE]

Writes the kubeconfig kube-apiserver reads with --audit-webhook-config-file: one cluster (the relay), one user
(its credentials), one context, current-context set. Refuses what the API server would silently ignore or reject.

flags:
  --server URL             the relay's https:// URL; the path is kept, a query string is refused (it is dropped)
  --from-stack FILE        take the URL from deployment outputs: \`aws cloudformation describe-stacks\` JSON
                           (${OutputName.AwsUrl}), \`serverless info --verbose\` text, or \`az deployment group show\`
                           JSON (${OutputName.AzureUrl}); - reads stdin
${CONNECTION_USAGE}
  --proxy-url URL          http(s) or socks5 proxy for the API server to connect through
  --embed                  put file contents in the kubeconfig (token, *-data fields) instead of paths
  --no-auth                send no credentials: with --from-stack, only for a relay deployed with AUTH_MODE=none
  -o, --output FILE        write to FILE (mode 0600) instead of stdout
  -h, --help               this text

Without --embed, files are referred to by path: give absolute paths, on the API server's host, where they must exist.`;

/** \`kube-audit-relay kubeconfig\`: the webhook kubeconfig for --audit-webhook-config-file. */
export const kubeconfigCommand: Command = {
  name: 'kubeconfig',
  summary: 'write the webhook kubeconfig for --audit-webhook-config-file',
  usage,
  async run(args, io) {
    const { values } = parseCommandLine(args, {
      server: { type: 'string' },
      'from-stack': { type: 'string' },
      'proxy-url': { type: 'string' },
      embed: { type: 'boolean' },
      'no-auth': { type: 'boolean' },
      output: { type: 'string', short: 'o' },
      ...CONNECTION_OPTIONS,
    });
    if (values.server !== undefined && values['from-stack'] !== undefined) throw new UsageError('give --server or --from-stack, not both');
    let server = values.server;
    let stack: StackOutputs | undefined;
    if (values['from-stack'] !== undefined) {
      stack = await readStack(values['from-stack'], io.stdin);
      if (stack.url === undefined) {
        const name = stack.source === 'azure-deployment' ? OutputName.AzureUrl : OutputName.AwsUrl;
        throw new InputError(`--from-stack ${values['from-stack']} has no ${name} output: is it the relay's stack, and has it finished deploying?`);
      }
      server = stack.url;
    }
    if (server === undefined) throw new UsageError('--server URL or --from-stack FILE is required');

    const connection = readConnection(values, io.env, { embed: values.embed === true });
    const spec: WebhookKubeconfigSpec = { server, ...connection, ...(values['proxy-url'] !== undefined ? { proxyUrl: values['proxy-url'] } : {}) };
    const problems = kubeconfigProblems(spec);
    if (problems.length > 0) throw new UsageError(problems.join('\n'));

    const noCredentials = Object.keys(connection.credentials).length === 0;
    if (values['no-auth'] && !noCredentials) throw new UsageError('--no-auth and credentials contradict each other: give one or the other');
    // A deployed relay requires a token unless deployed with AUTH_MODE=none; without one, every batch would get 401.
    if (stack !== undefined && noCredentials && !values['no-auth']) {
      const fetch =
        stack.tokenParameterName === undefined
          ? ''
          : `\nthe relay accepts the bearer token(s) in SSM parameter ${stack.tokenParameterName}; fetch it and keep one token in the file:\n` +
            `  aws ssm get-parameter --name ${stack.tokenParameterName} --with-decryption --query Parameter.Value --output text > token`;
      throw new UsageError(
        `--from-stack ${values['from-stack']} names a deployed relay, which requires a credential: give --token-file (or --token-env, --basic-auth-file, --client-cert with --client-key), or --no-auth if it was deployed with AUTH_MODE=none${fetch}`,
      );
    }
    await writeOutput(io, values.output, renderWebhookKubeconfig(spec));
    return 0;
  },
};

async function readStack(path: string, stdin: NodeJS.ReadableStream): Promise<StackOutputs> {
  let text: string;
  try {
    text = path === '-' ? await readAll(stdin) : readFileSync(path, 'utf8');
  } catch (error) {
    throw unreadable('--from-stack', path, error);
  }
  try {
    return parseStackOutputs(text);
  } catch (error) {
    throw new InputError(`--from-stack ${path} ${(error as Error).message}`, { cause: error });
  }
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}
