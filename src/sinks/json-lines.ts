import { open, type FileHandle } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { SinkError } from '../errors.ts';
import type { LogRecord } from '../record.ts';
import { type Sink, type SinkResult, storedAll } from './sink.ts';

/*
 * JSON-lines sinks: one event per line, exactly as kube-apiserver's --audit-log-path writes its audit.log, so
 * audit2rbac, Falco's file input and log agents read the output unchanged. A batch is written whole or not at all.
 */

/** Writes lines to a stream, e.g. stdout; resolves once the stream has taken them. */
export function createStreamSink(stream: Writable): Sink {
  return createLineSink('stdout', {
    write: (lines) =>
      new Promise<void>((resolve, reject) => {
        stream.write(lines, (error) => (error ? reject(error) : resolve()));
      }),
    close: async () => {},
  });
}

/**
 * Appends lines to a file, fsyncing each batch before it is acknowledged. A batch that fails part-way is cut
 * off again, so the file never holds a partial line and the API server's retry writes the batch whole.
 */
export async function createFileSink(path: string): Promise<Sink> {
  let file: FileHandle;
  try {
    file = await open(path, 'a');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new SinkError(`cannot open output file ${path} for appending (${code}); check the directory exists and is writable`, 'file', 0, { cause: error });
  }
  return createLineSink('file', {
    async write(lines) {
      const { size } = await file.stat();
      try {
        await file.write(lines);
        await file.datasync();
      } catch (error) {
        await file.truncate(size).catch(() => {});
        throw error;
      }
    },
    close: () => file.close(),
  });
}

interface LineWriter {
  write(lines: Buffer): Promise<void>;
  close(): Promise<void>;
}

function createLineSink(name: string, writer: LineWriter): Sink {
  // Batches arrive concurrently; writing them one after another keeps every line whole.
  let queue: Promise<unknown> = Promise.resolve();

  async function writeBatch(records: readonly LogRecord[], signal: AbortSignal): Promise<SinkResult> {
    signal.throwIfAborted();
    try {
      await writer.write(encodeLines(records));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw new SinkError(`writing ${records.length} events to ${name} failed (${code})`, name, records.length, { cause: error });
    }
    return storedAll(records.length, 1);
  }

  return {
    name,
    maxRecordBytes: Number.MAX_SAFE_INTEGER,
    send(records, context) {
      const result = queue.then(() => writeBatch(records, context.signal));
      queue = result.catch(() => {});
      return result;
    },
    async close() {
      await queue;
      await writer.close();
    },
  } satisfies Sink;
}

/**
 * The records' JSON as UTF-8 lines, encoded straight into one buffer sized from `bytes`: no joined string and no
 * second copy when the stream or file takes it.
 */
function encodeLines(records: readonly LogRecord[]): Buffer {
  const size = records.reduce((total, record) => total + record.bytes + 1, 0);
  const lines = Buffer.allocUnsafe(size);
  let offset = 0;
  for (const [index, record] of records.entries()) {
    const written = lines.write(record.json, offset, 'utf8');
    if (written !== record.bytes) throw new Error(`record ${index} of the batch says ${record.bytes} bytes but its JSON encodes to ${written}`);
    offset += written;
    lines[offset++] = 0x0a;
  }
  return lines;
}
