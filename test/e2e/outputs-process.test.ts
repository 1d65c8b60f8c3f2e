// `kube-audit-relay serve --output FILE --output s3://bucket/audit/ --best-effort-output http://...` as a real
// process, fed the way the API server's webhook feeds it (whole-batch retries), with the archive (s3rver, a real
// S3-compatible server) going down and coming back, and the forward receiver slow or down.
import assert from 'node:assert/strict';
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { describe, test } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { deliverLikeApiServer, generatedEvents } from '../support/apiserver-webhook.ts';
import { batches, fixtureLines } from '../support/event-lists.ts';
import { send } from '../support/http-client.ts';
import { listeningLine, SERVE_LISTENING } from '../support/listening.ts';
import { type ServerProcess, startS3rver } from '../support/server-process.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';
import { waitFor } from '../support/wait-for.ts';

const bin = fileURLToPath(new URL('../../bin/kube-audit-relay.js', import.meta.url));
const S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

interface Relay {
  readonly url: string;
  readonly logs: () => Record<string, unknown>[];
  stop(): Promise<number | null>;
}

/** Starts the relay process and resolves once it listens; `stop` sends SIGTERM and waits for the exit. */
async function startRelay(args: readonly string[], env: Record<string, string>): Promise<Relay> {
  const child: ChildProcessByStdio<null, Readable, Readable> = spawn(process.execPath, [bin, 'serve', '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    // Events are compared as sent: no redaction (the fixtures hold Secrets).
    env: { PATH: process.env.PATH ?? '', AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true', REDACT_SECRETS: 'false', ...env },
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(child, 'exit');
  try {
    const url = await listeningLine(child, () => stderr, SERVE_LISTENING, { name: 'serve', timeoutMs: 20_000 });
    return {
      url,
      // Log lines only: on Node 20 the AWS SDK also prints a plain-text NodeVersionSupportWarning to stderr.
      logs: () =>
        stderr
          .split('\n')
          .filter((line) => line.startsWith('{'))
          .map((line) => JSON.parse(line) as Record<string, unknown>),
      async stop() {
        child.kill('SIGTERM');
        const [code] = await exited;
        return code as number | null;
      },
    };
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
}

/** Every line of every object in the bucket. */
async function archivedLines(endpoint: string, bucket: string): Promise<string[]> {
  const s3 = new S3Client({ endpoint, forcePathStyle: true, region: 'us-east-1', credentials: S3_CREDENTIALS });
  try {
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    const lines: string[] = [];
    for (const { Key } of listed.Contents ?? []) {
      assert.match(Key!, /^audit\/cluster=unnamed\/date=\d{4}-\d{2}-\d{2}\/hour=\d{2}\/[0-9a-f]{64}\.jsonl\.gz$/);
      const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key }));
      lines.push(...gunzipSync(await object.Body!.transformToByteArray()).toString('utf8').split('\n').slice(0, -1));
    }
    return lines;
  } finally {
    s3.destroy();
  }
}

async function createBucket(endpoint: string): Promise<void> {
  const s3 = new S3Client({ endpoint, forcePathStyle: true, region: 'us-east-1', credentials: S3_CREDENTIALS });
  await s3.send(new CreateBucketCommand({ Bucket: 'bucket' }));
  s3.destroy();
}

const sorted = (lines: readonly string[]): string[] => [...lines].sort();
const itemsOf = (receiver: WebhookReceiver): string[] => receiver.accepted.flatMap((post) => post.body.items.map((item) => JSON.stringify(item)));

describe('serve with a file, an S3 archive and a best-effort forward, as a process', () => {
  test('every event lands in the file, the archive and the forward exactly once across an archive outage and the API server retries', async () => {
    const events = generatedEvents(fixtureLines(), 1_000);
    const bodies = batches(events, 100);
    const file = join(mkdtempSync(join(tmpdir(), 'kar-outputs-')), 'audit.log');
    let s3: ServerProcess = await startS3rver();
    const forward = await startWebhookReceiver();
    let relay: Relay | undefined;
    try {
      await createBucket(s3.endpoint);
      const { port } = new URL(s3.endpoint);
      // SINK_TIMEOUT_MS of 3 s: an archive that does not answer fails the attempt quickly.
      relay = await startRelay(['--output', file, '--output', 's3://bucket/audit/', '--best-effort-output', forward.url], {
        AWS_ENDPOINT_URL_S3: s3.endpoint,
        AWS_ACCESS_KEY_ID: S3_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: S3_CREDENTIALS.secretAccessKey,
        SINK_TIMEOUT_MS: '3000',
      });
      const url = relay.url;

      // The archive goes down before the fifth batch and comes back after that batch failed twice.
      let batch = 0;
      let failedAttempts = 0;
      const statuses: number[] = [];
      const outcome = await deliverLikeApiServer(bodies, async (body) => {
        if (body === bodies[4] && failedAttempts === 0 && statuses.length === 4) await s3.stop({ keepData: true });
        const answer = await send(url, body);
        statuses.push(answer.status);
        if (answer.status !== 200) {
          assert.equal(answer.status, 503, answer.body);
          assert.match(answer.body, /not stored, the API server will retry the batch: s3 archive: 100 events not stored .*\(ECONNREFUSED\)/);
          if (++failedAttempts === 2) s3 = await startS3rver({ port: Number(port), dir: s3.dir });
        } else batch++;
        return answer.status;
      });
      assert.equal(outcome.dropped, 0);
      assert.equal(batch, bodies.length);
      assert.deepEqual(statuses.filter((status) => status === 503).length, 2, 'the fifth batch failed twice while the archive was down');

      const inFile = readFileSync(file, 'utf8').split('\n').slice(0, -1);
      assert.deepEqual(sorted(inFile), sorted(events), 'the file holds every event once, although it took the fifth batch three times');
      assert.deepEqual(sorted(await archivedLines(s3.endpoint, 'bucket')), sorted(events), 'the archive holds every event once');
      await waitFor(() => itemsOf(forward).length >= events.length);
      assert.deepEqual(sorted(itemsOf(forward)), sorted(events.map((line) => JSON.stringify(JSON.parse(line)))), 'the forward got every event once');
      assert.equal(await relay.stop(), 0);
      relay = undefined;
    } finally {
      await relay?.stop();
      await forward.stop();
      await s3.stop();
    }
  });

  for (const state of ['slow', 'down'] as const) {
    test(`the forward ${state}: every batch still answered 200 promptly, with the forward's losses counted and logged`, async () => {
      const events = generatedEvents(fixtureLines(), 600);
      const file = join(mkdtempSync(join(tmpdir(), 'kar-outputs-')), 'audit.log');
      const s3 = await startS3rver();
      const forward = await startWebhookReceiver();
      forward.delayMs = 20_000;
      if (state === 'down') await forward.stop();
      let relay: Relay | undefined;
      try {
        await createBucket(s3.endpoint);
        relay = await startRelay(['--output', file, '--output', 's3://bucket/audit/', '--best-effort-output', forward.url], {
          AWS_ENDPOINT_URL_S3: s3.endpoint,
          AWS_ACCESS_KEY_ID: S3_CREDENTIALS.accessKeyId,
          AWS_SECRET_ACCESS_KEY: S3_CREDENTIALS.secretAccessKey,
          // Room for about one batch, so a slow forward drops the rest.
          BEST_EFFORT_QUEUE_BYTES: '100000',
          SINK_TIMEOUT_MS: '10000',
        });
        let dropped = 0;
        for (const body of batches(events, 100)) {
          const started = performance.now();
          const answer = await send(relay.url, body);
          const took = performance.now() - started;
          assert.equal(answer.status, 200, answer.body);
          // The forward answers after 20 s (or never); a file and a local archive take milliseconds. 5 s is far
          // from both, however loaded the machine.
          assert.ok(took < 5_000, `answered after ${Math.round(took)} ms`);
          dropped += (JSON.parse(answer.body) as { dropped: number }).dropped;
        }
        assert.deepEqual(sorted(readFileSync(file, 'utf8').split('\n').slice(0, -1)), sorted(events));
        assert.deepEqual(sorted(await archivedLines(s3.endpoint, 'bucket')), sorted(events));
        const messages = (): string[] => relay!.logs().map((entry) => String(entry.msg));
        if (state === 'slow') {
          assert.ok(dropped > 0, 'drops are counted in the answers');
          assert.equal(messages().filter((msg) => msg.startsWith(`best-effort output ${forward.url} is falling behind`)).length, 1);
        } else {
          await waitFor(() => messages().some((msg) => msg.startsWith(`best-effort output ${forward.url} did not store a batch`)));
          assert.ok(messages().some((msg) => msg.startsWith(`best-effort output ${forward.url} did not store a batch: forward to `) && msg.includes('(ECONNREFUSED)')));
        }
        assert.equal(await relay.stop(), 0);
        relay = undefined;
      } finally {
        await relay?.stop();
        if (state === 'slow') await forward.stop();
        await s3.stop();
      }
    });
  }
});
