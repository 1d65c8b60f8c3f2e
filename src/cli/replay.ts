import { createReadStream } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { RelayError } from '../errors.ts';
import { kubeconfigProblems } from '../generate/kubeconfig.ts';
import { eventListBody, readEventBatches, type SkippedLine } from '../replay/event-log.ts';
import { API_SERVER_BACKOFF, deliver, RetryWouldNotHelp, type WebhookTarget } from '../replay/webhook-sender.ts';
import { integerFlag, parseCommandLine, unreadable, UsageError, type Command } from './command.ts';
import { CONNECTION_OPTIONS, CONNECTION_USAGE, readConnection, type Connection } from './credentials.ts';

const usage = `usage: kube-audit-relay replay FILE|- --server URL [credentials] [tls] [--batch N] [--rate N]

Sends an API server audit log (JSON lines, as --audit-log-path writes it) to a relay the way the API server's
webhook does: EventList batches POSTed to the URL, every non-2xx answer retried 5 times with backoff, then the
batch counted as failed. Stops at once, saying why, when retrying cannot help: credentials refused (401, 403) or the
relay's certificate not trusted (give --ca-file). Shows progress on a terminal and ends with a summary. Exit 0 when every event was
acknowledged, 1 otherwise. For backfills and for testing a deployment end to end.

flags:
  --server URL             the relay's URL (as in the webhook kubeconfig)
${CONNECTION_USAGE}
  --batch N                events per EventList (default 400, --audit-webhook-batch-max-size)
  --rate N                 at most N events per second (default: as fast as the relay answers)
  --initial-backoff D      wait before the first retry, e.g. 10s, 500ms (default 10s, --audit-webhook-initial-backoff)
  --timeout D              per attempt (default 30s, as the API server)
  -h, --help               this text`;

interface ReplaySummary {
  events: number;
  batches: number;
  acknowledged: number;
  failed: number;
  failedBatches: number;
  retries: number;
  skipped: number;
}

/** \`kube-audit-relay replay\`: sends an audit log to a relay as the API server's webhook would. */
export const replayCommand: Command = {
  name: 'replay',
  summary: "send an audit log to a relay the way the API server's webhook does",
  usage,
  async run(args, io) {
    const { values, positionals } = parseCommandLine(
      args,
      {
        server: { type: 'string' },
        batch: { type: 'string' },
        rate: { type: 'string' },
        'initial-backoff': { type: 'string' },
        timeout: { type: 'string' },
        ...CONNECTION_OPTIONS,
      },
      { positionals: true },
    );
    if (positionals.length !== 1) throw new UsageError('give exactly one audit log: a FILE, or - for stdin');
    if (values.server === undefined) throw new UsageError('--server URL is required');
    const batchSize = integerFlag('batch', values.batch, 1, 100_000) ?? 400;
    const rate = integerFlag('rate', values.rate, 1);
    const backoff = { ...API_SERVER_BACKOFF, initialMs: durationFlag('initial-backoff', values['initial-backoff']) ?? API_SERVER_BACKOFF.initialMs };
    const connection = readConnection(values, io.env, { embed: true });
    const problems = kubeconfigProblems({ server: values.server, ...connection });
    if (problems.length > 0) throw new UsageError(problems.join('\n'));
    const target = webhookTarget(new URL(values.server), connection, durationFlag('timeout', values.timeout) ?? 30_000);

    const path = positionals[0]!;
    const input: Readable = path === '-' ? io.stdin : createReadStream(path);
    const opened = new Promise<void>((resolve, reject) => {
      if (path === '-') return resolve();
      input.once('open', () => resolve());
      input.once('error', (error: NodeJS.ErrnoException) => reject(unreadable('audit log', path, error)));
    });
    await opened;

    const summary: ReplaySummary = { events: 0, batches: 0, acknowledged: 0, failed: 0, failedBatches: 0, retries: 0, skipped: 0 };
    const progress = createProgress(io.stderr, summary);
    const skip = (skipped: SkippedLine): void => {
      summary.skipped += 1;
      progress.note(`line ${skipped.line} skipped: ${skipped.reason}`);
    };
    const started = Date.now();
    let interrupted = false;
    try {
      for await (const batch of readEventBatches(input, batchSize, skip)) {
        if (rate !== undefined) {
          const due = started + (summary.events * 1000) / rate;
          if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
        }
        summary.events += batch.items.length;
        summary.batches += 1;
        const outcome = await deliver(target, eventListBody(batch), backoff, io.signal, (failure, waitMs) => {
          summary.retries += 1;
          progress.note(`batch ${summary.batches}: ${failure}, retrying in ${(waitMs / 1000).toFixed(1)} s`);
        });
        if (outcome.delivered) summary.acknowledged += batch.items.length;
        else {
          summary.failed += batch.items.length;
          summary.failedBatches += 1;
          progress.note(`batch ${summary.batches} of ${batch.items.length} events failed after ${outcome.attempts} attempts (${outcome.lastFailure ?? 'unknown'}): the API server would drop it`);
        }
        progress.update();
      }
    } catch (error) {
      if (error instanceof RetryWouldNotHelp) {
        progress.done();
        throw new RelayError(`replay stopped at batch ${summary.batches}, ${summary.acknowledged} events acknowledged before it: ${error.message}`, { cause: error });
      }
      if (!io.signal.aborted) {
        progress.done();
        throw new RelayError(`replay stopped after ${summary.events} events: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
      }
      interrupted = true;
    } finally {
      progress.done();
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    io.stdout.write(
      `${interrupted ? 'interrupted: ' : ''}sent ${summary.events} events in ${summary.batches} batches in ${seconds} s: ` +
        `${summary.acknowledged} acknowledged, ${summary.failed} failed (${summary.failedBatches} batches), ${summary.retries} retries, ${summary.skipped} lines skipped\n`,
    );
    return summary.failed === 0 && summary.skipped === 0 && !interrupted ? 0 : 1;
  },
};

function webhookTarget(url: URL, connection: Connection, timeoutMs: number): WebhookTarget {
  const { credentials } = connection;
  const data = (value: { path: string } | { data: string } | undefined): string | undefined => (value && 'data' in value ? value.data : undefined);
  const authorization =
    credentials.token !== undefined
      ? `Bearer ${credentials.token}`
      : credentials.basic
        ? `Basic ${Buffer.from(`${credentials.basic.username}:${credentials.basic.password}`, 'utf8').toString('base64')}`
        : undefined;
  return {
    url,
    ...(authorization ? { authorization } : {}),
    ...(data(connection.certificateAuthority) ? { ca: data(connection.certificateAuthority) } : {}),
    ...(data(credentials.clientCertificate) ? { cert: data(credentials.clientCertificate) } : {}),
    ...(data(credentials.clientKey) ? { key: data(credentials.clientKey) } : {}),
    ...(connection.tlsServerName ? { servername: connection.tlsServerName } : {}),
    rejectUnauthorized: connection.insecureSkipTlsVerify !== true,
    timeoutMs,
  };
}

/** Parses 10s, 500ms, 2m or a bare number of milliseconds. */
function durationFlag(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(value.trim());
  if (!match) throw new UsageError(`--${flag} must be a duration such as 10s, 500ms or 1m, got '${value}'`);
  const unit = { ms: 1, s: 1000, m: 60_000 }[match[2] as 'ms' | 's' | 'm'] ?? 1;
  return Number(match[1]) * unit;
}

/** One self-overwriting status line on a terminal; on anything else only the notes, one per line. */
function createProgress(stream: Writable, summary: ReplaySummary) {
  const tty = (stream as Writable & { isTTY?: boolean }).isTTY === true;
  const line = (): string => `\r\x1b[K${summary.events} events sent in ${summary.batches} batches: ${summary.acknowledged} acknowledged, ${summary.failed} failed`;
  return {
    update(): void {
      if (tty) stream.write(line());
    },
    note(message: string): void {
      stream.write(tty ? `\r\x1b[K${message}\n${line()}` : `${message}\n`);
    },
    done(): void {
      if (tty) stream.write('\n');
    },
  };
}
