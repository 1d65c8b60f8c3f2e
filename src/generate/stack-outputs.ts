/** The deployment outputs the kubeconfig generator uses, whichever cloud produced them. */
export interface StackOutputs {
  /** Where the file came from, for messages: aws-cloudformation, serverless-info or azure-deployment. */
  readonly source: 'aws-cloudformation' | 'serverless-info' | 'azure-deployment';
  /** The relay's private URL: the webhook server. */
  readonly url?: string;
  /** SSM parameter holding the bearer token (AWS). */
  readonly tokenParameterName?: string;
  /** CloudWatch Logs group the relay writes to (AWS). */
  readonly logGroupName?: string;
}

/** Output names the AWS stack (infra/aws) and the Azure deployment (infra/azure) publish. */
export const OutputName = {
  AwsUrl: 'PrivateInvokeUrl',
  AwsTokenParameter: 'AuthTokenParameterName',
  AwsLogGroup: 'AuditLogGroupName',
  AzureUrl: 'privateUrl',
} as const;

interface CloudFormationOutput {
  OutputKey?: string;
  OutputValue?: string;
}

/**
 * Reads the outputs of a deployed relay from `aws cloudformation describe-stacks` JSON, `serverless info --verbose`
 * text (lines `Key: value`) or `az deployment group show` JSON (properties.outputs.NAME.value). Throws an Error
 * naming what was expected when the text is none of these.
 */
export function parseStackOutputs(text: string): StackOutputs {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return parseServerlessInfo(text);
  }
  const stacks = (json as { Stacks?: { Outputs?: CloudFormationOutput[] }[] }).Stacks;
  if (Array.isArray(stacks)) {
    if (stacks.length !== 1) throw new Error(`describe-stacks output holds ${stacks.length} stacks: pass --stack-name so it holds exactly one`);
    const outputs = new Map((stacks[0]?.Outputs ?? []).map((output) => [output.OutputKey, output.OutputValue]));
    return withoutUndefined({
      source: 'aws-cloudformation',
      url: outputs.get(OutputName.AwsUrl),
      tokenParameterName: outputs.get(OutputName.AwsTokenParameter),
      logGroupName: outputs.get(OutputName.AwsLogGroup),
    });
  }
  const outputs = (json as { properties?: { outputs?: Record<string, { value?: unknown }> } }).properties?.outputs;
  if (outputs && typeof outputs === 'object') {
    const value = outputs[OutputName.AzureUrl]?.value;
    return withoutUndefined({ source: 'azure-deployment', url: typeof value === 'string' ? value : undefined });
  }
  throw new Error('is JSON but neither `aws cloudformation describe-stacks` output (Stacks[].Outputs) nor `az deployment group show` output (properties.outputs)');
}

function parseServerlessInfo(text: string): StackOutputs {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^\s*([A-Za-z0-9]+):\s+(\S+)\s*$/.exec(line);
    if (match) values.set(match[1]!, match[2]!);
  }
  if (![OutputName.AwsUrl, OutputName.AwsTokenParameter, OutputName.AwsLogGroup].some((key) => values.has(key))) {
    throw new Error(`is neither JSON nor \`serverless info --verbose\` output with a ${OutputName.AwsUrl}: line`);
  }
  return withoutUndefined({
    source: 'serverless-info',
    url: values.get(OutputName.AwsUrl),
    tokenParameterName: values.get(OutputName.AwsTokenParameter),
    logGroupName: values.get(OutputName.AwsLogGroup),
  });
}

const withoutUndefined = <T extends object>(value: T): T =>
  Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as T;
