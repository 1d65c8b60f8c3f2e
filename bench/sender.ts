// The parent side of bench/replay-sender.ts: starts it and asks it to prepare and send replays.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Mix } from './inputs.ts';
import type { ReplayResult, SenderReply, SenderRequest } from './replay-sender.ts';

const CHILD = fileURLToPath(new URL('./replay-sender.ts', import.meta.url));
/** Bounds every exchange: a 118 MB replay to a slow receiver on a loaded machine takes seconds, never minutes. */
const REPLY_TIMEOUT_MS = 180_000;

export interface ReplaySender {
  /** Builds the EventList bodies of `events` events of the mix, auditIDs numbered from `firstId`. */
  prepare(mix: Mix, events: number, firstId: number, batchSize?: number): Promise<{ batches: number; bytes: number }>;
  /** Sends the prepared bodies to `url` from `senders` concurrent senders. */
  send(url: string, senders: number): Promise<ReplayResult>;
  close(): void;
}

export function startSender(): ReplaySender {
  const child: ChildProcess = fork(CHILD, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ask = (request: SenderRequest): Promise<SenderReply> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`replay sender: no answer to ${request.type} within ${REPLY_TIMEOUT_MS} ms`)), REPLY_TIMEOUT_MS);
      const onExit = (code: number | null): void => reject(new Error(`replay sender exited (${code}) during ${request.type}`));
      child.once('exit', onExit);
      child.once('message', (reply: SenderReply) => {
        clearTimeout(timer);
        child.off('exit', onExit);
        if (reply.type === 'error') reject(new Error(`replay sender: ${reply.message}`));
        else resolve(reply);
      });
      child.send(request);
    });
  return {
    async prepare(mix, events, firstId, batchSize = 400) {
      const reply = await ask({ type: 'prepare', mix, events, firstId, batchSize });
      if (reply.type !== 'ready') throw new Error(`replay sender answered ${reply.type} to prepare`);
      return reply;
    },
    async send(url, senders) {
      const reply = await ask({ type: 'send', url, senders });
      if (reply.type !== 'sent') throw new Error(`replay sender answered ${reply.type} to send`);
      return reply.result;
    },
    close() {
      if (child.connected) child.disconnect();
      child.kill();
    },
  };
}
