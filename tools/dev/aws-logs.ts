// `npm run dev:logs`: every audit event the dev loop's CloudWatch Logs stand-in holds, one JSON line each on stdout
// (oldest first, group by group), read through the real SDK as `aws logs filter-log-events` would.
import { CloudWatchLogsClient, DescribeLogGroupsCommand, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DEV_CREDENTIALS, DEV_REGION, devPorts } from './ports.ts';

/** Bounds the paging, so a stand-in that kept answering with a next token could not keep this running. */
const MAX_PAGES = 10_000;

const endpoint = `http://127.0.0.1:${devPorts(process.env).logs}`;
const client = new CloudWatchLogsClient({
  endpoint,
  region: DEV_REGION,
  credentials: { accessKeyId: DEV_CREDENTIALS.AWS_ACCESS_KEY_ID, secretAccessKey: DEV_CREDENTIALS.AWS_SECRET_ACCESS_KEY },
  maxAttempts: 1,
});

try {
  const { logGroups = [] } = await client.send(new DescribeLogGroupsCommand({}));
  let total = 0;
  for (const { logGroupName } of logGroups) {
    let nextToken: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const answer = await client.send(new FilterLogEventsCommand({ logGroupName, nextToken }));
      for (const event of answer.events ?? []) process.stdout.write(`${event.message}\n`);
      total += answer.events?.length ?? 0;
      nextToken = answer.nextToken;
      if (nextToken === undefined) break;
    }
  }
  process.stderr.write(`${total} events in ${logGroups.length} log group(s) at ${endpoint}\n`);
} catch (error) {
  const code = (error as NodeJS.ErrnoException).code;
  process.stderr.write(
    code === 'ECONNREFUSED'
      ? `nothing listens at ${endpoint}: start the dev loop with \`npm run dev\` first (or set KAR_DEV_LOGS_PORT to its port)\n`
      : `cannot read the CloudWatch Logs stand-in at ${endpoint}: ${(error as Error).message}\n`,
  );
  process.exitCode = 1;
}
