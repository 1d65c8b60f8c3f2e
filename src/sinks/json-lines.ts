import type { Writable } from 'node:stream';
import { SinkError } from '../errors.ts';
import type { LogRecord } from '../record.ts';
import { createSlices, type Slices } from '../slices.ts';
import { openAppendOutput, OutputWriteError, type OutputLog } from './append-file.ts';
import { type Sink, type SinkResult, storedAll } from './sink.ts';

/**
 * JSON-lines sinks: one event per line, exactly as kube-apiserver's --audit-log-path writes its audit.log, so
 * audit2rbac, Falco's file input and log agents read the output unchanged.
 */
export interface JsonLinesOptions {
  /** Where the sink reports what it found and did outside a batch (a repaired torn line, a closed stdout). Default: nowhere. */
  readonly log?: OutputLog;
}

/**
 * Writes lines to a stream, e.g. stdout; resolves once the stream has taken them. A stream that fails (EPIPE: the
 * reader of stdout went away) fails this batch and every later one, logged once, instead of crashing the process.
 */
export function createStreamSink(stream: Writable, options: JsonLinesOptions = {}): Sink {
  let broken: OutputWriteError | undefined;
  // The write's callback and the stream's 'error' event both see the failure, in either order: the first one
  // describes and logs it.
  const breaks = (error: NodeJS.ErrnoException): OutputWriteError => {
    if (broken) return broken;
    const code = error.code ?? 'EIO';
    const why = code === 'EPIPE' ? "stdout's reader has gone away" : 'stdout failed';
    broken = new OutputWriteError(`${code} on stdout: ${why}, nothing more can be written; restart the relay with a reader on its stdout, or give --output (OUTPUTS) a file`, code, { cause: error });
    options.log?.({ level: 'error', msg: broken.message });
    return broken;
  };
  stream.on('error', breaks);
  return createLineSink('stdout', options, {
    oneAtATime: true,
    write: (lines) =>
      new Promise<void>((resolve, reject) => {
        if (broken) return reject(broken);
        stream.write(lines, (error) => (error ? reject(breaks(error)) : resolve()));
      }),
    close: async () => {},
  });
}

/**
 * Appends lines to `path`: a regular file is fsynced after each group of batches written together and cut back when
 * a group fails, so it holds only whole lines of whole batches; a pipe, FIFO or character device takes the write as
 * the store (docs/delivery.md).
 */
export async function createFileSink(path: string, options: JsonLinesOptions = {}): Promise<Sink> {
  const output = await openAppendOutput(path, options.log ?? (() => {}));
  // The output orders the batches itself: a regular file writes those that arrive during a write as one group.
  return createLineSink('file', options, { oneAtATime: false, write: (lines, signal) => output.append(lines, signal), close: () => output.close() });
}

interface LineWriter {
  /** Whether batches must be encoded and written one after another; otherwise `write` may be called concurrently. */
  readonly oneAtATime: boolean;
  write(lines: Buffer, signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

function createLineSink(name: string, options: JsonLinesOptions, writer: LineWriter): Sink {
  // Batches arrive concurrently; a stream takes them one after another, which keeps every line whole.
  let queue: Promise<unknown> = Promise.resolve();

  async function writeBatch(records: readonly LogRecord[], signal: AbortSignal): Promise<SinkResult> {
    signal.throwIfAborted();
    // A batch of 600,000 events takes seconds to encode: in slices, so other requests are answered meanwhile.
    // (withDeduplication has already left out what was stored before.)
    const slices = createSlices();
    try {
      await writer.write(await encodeLines(records, slices), signal);
    } catch (error) {
      // Given up on while it waited for its turn: nothing was written, as when the signal aborted before encoding.
      if (signal.aborted && error === signal.reason) throw error;
      const why = error instanceof OutputWriteError ? `: ${error.message}` : ` (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
      throw new SinkError(`writing ${records.length} events to ${name} failed${why}`, name, records.length, { cause: error });
    }
    return storedAll(records.length, 1);
  }

  return {
    name,
    maxRecordBytes: Number.MAX_SAFE_INTEGER,
    send(records, context) {
      const result = writer.oneAtATime ? queue.then(() => writeBatch(records, context.signal)) : writeBatch(records, context.signal);
      const settled = result.catch(() => {});
      queue = writer.oneAtATime ? settled : Promise.all([queue, settled]);
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
async function encodeLines(records: readonly LogRecord[], slices: Slices): Promise<Buffer> {
  const size = records.reduce((total, record) => total + record.bytes + 1, 0);
  const lines = Buffer.allocUnsafe(size);
  let offset = 0;
  for (const [index, record] of records.entries()) {
    const written = lines.write(record.json, offset, 'utf8');
    if (written !== record.bytes) throw new Error(`record ${index} of the batch says ${record.bytes} bytes but its JSON encodes to ${written}`);
    offset += written;
    lines[offset++] = 0x0a;
    if (slices.due()) await slices.next();
  }
  return lines;
}
