import { CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';

/** A real SDK client pointed at a stand-in, with fake credentials; SDK retries off so call counts are exact. */
export function standInClient(endpoint: string): CloudWatchLogsClient {
  return new CloudWatchLogsClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDSTANDIN', secretAccessKey: 'stand-in-secret' },
    maxAttempts: 1,
  });
}

/** Every message of one stream, read with GetLogEvents from the head until the forward token repeats. */
export async function readStream(client: CloudWatchLogsClient, logGroupName: string, logStreamName: string): Promise<string[]> {
  const messages: string[] = [];
  let token: string | undefined;
  for (;;) {
    const page = await client.send(new GetLogEventsCommand({ logGroupName, logStreamName, startFromHead: true, nextToken: token }));
    messages.push(...(page.events ?? []).map((event) => event.message ?? ''));
    if (page.nextForwardToken === token) return messages;
    token = page.nextForwardToken;
  }
}
