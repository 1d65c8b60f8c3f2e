import type { Writable } from 'node:stream';
import { SinkError } from '../errors.ts';
import type { LogRecord } from '../record.ts';
import { createSlices, SLICE_CHECK_RECORDS, type Slices } from '../slices.ts';
import { type BatchLines, openAppendOutput, OutputWriteError, type OutputLog } from './append-file.ts';
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
    // A stream over a file descriptor (stdout is one: a file, a pipe or a terminal) has handed a chunk to the
    // operating system when the write's callback runs; another stream may pass the chunk on as it is (a PassThrough
    // does), so its pieces must not share a buffer.
    piecesShareBuffer: typeof (stream as { fd?: unknown }).fd === 'number',
    async write(lines) {
      for await (const piece of Buffer.isBuffer(lines) ? [lines] : lines.pieces) {
        await new Promise<void>((resolve, reject) => {
          if (broken) return reject(broken);
          stream.write(piece, (error) => (error ? reject(breaks(error)) : resolve()));
        });
      }
    },
    close: async () => {},
  });
}

/**
 * Appends lines to `path`: a regular file is written with O_DSYNC (durable when each write returns), batches that
 * arrive together in one write, and cut back when a group fails, so it holds only whole lines of whole batches; a
 * pipe, FIFO or character device takes the write as the store (docs/delivery.md).
 */
export async function createFileSink(path: string, options: JsonLinesOptions = {}): Promise<Sink> {
  const output = await openAppendOutput(path, options.log ?? (() => {}));
  // The output orders the batches itself: a regular file writes those that arrive during a write as one group.
  return createLineSink('file', options, { oneAtATime: false, piecesShareBuffer: true, write: (lines, signal) => output.append(lines, signal), close: () => output.close() });
}

interface LineWriter {
  /** Whether batches must be encoded and written one after another; otherwise `write` may be called concurrently. */
  readonly oneAtATime: boolean;
  /** Whether a large batch's pieces may share one buffer: the writer is done with a piece before it asks for the next. */
  readonly piecesShareBuffer: boolean;
  write(lines: BatchLines, signal: AbortSignal): Promise<void>;
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
      await writer.write(await encodeLines(records, slices, writer.piecesShareBuffer), signal);
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
 * Largest piece a batch's lines are encoded into: a batch up to this size is one buffer, a larger one is encoded piece
 * by piece as the output takes them, into one buffer of this size where the writer allows, so that a 6 MB batch does
 * not need another 6 MB. Large enough that a piece costs one write call among milliseconds of encoding.
 */
export const LINE_PIECE_BYTES = 1024 * 1024;

/**
 * The records' JSON as UTF-8 lines, encoded straight into buffers sized from `bytes`: no joined string and no second
 * copy when the stream or file takes them. A batch over LINE_PIECE_BYTES is encoded as it is written.
 */
async function encodeLines(records: readonly LogRecord[], slices: Slices, shareBuffer: boolean): Promise<BatchLines> {
  const bytes = records.reduce((total, record) => total + record.bytes + 1, 0);
  if (bytes > LINE_PIECE_BYTES) {
    // Checked before anything is written: a batch in pieces is encoded while the output takes it, inside a file's
    // group, so a wrong count found while encoding would come after pieces were written.
    for (const [index, record] of records.entries()) {
      checkBytes(record.utf8?.length ?? Buffer.byteLength(record.json, 'utf8'), record, index);
      if (index % SLICE_CHECK_RECORDS === 0 && slices.due()) await slices.next();
    }
    return { bytes, pieces: linePieces(records, slices, shareBuffer) };
  }
  const lines = Buffer.allocUnsafe(bytes);
  let offset = 0;
  for (const [index, record] of records.entries()) {
    offset = encodeLine(lines, offset, record, index);
    if (slices.due()) await slices.next();
  }
  return lines;
}

/** Throws unless the record's JSON encodes to as many bytes as it says: its line would overwrite the next one's. */
function checkBytes(encoded: number, record: LogRecord, index: number): void {
  if (encoded !== record.bytes) throw new Error(`record ${index} of the batch says ${record.bytes} bytes but its JSON encodes to ${encoded}`);
}

/** The lines in pieces of at most LINE_PIECE_BYTES; with `shareBuffer`, each is valid only until the next is asked for. */
async function* linePieces(records: readonly LogRecord[], slices: Slices, shareBuffer: boolean): AsyncGenerator<Buffer> {
  let piece = Buffer.allocUnsafeSlow(LINE_PIECE_BYTES);
  let offset = 0;
  for (const [index, record] of records.entries()) {
    if (offset + record.bytes + 1 > piece.length && offset > 0) {
      yield piece.subarray(0, offset);
      if (!shareBuffer) piece = Buffer.allocUnsafeSlow(LINE_PIECE_BYTES);
      offset = 0;
    }
    // A record longer than a piece (MAX_EVENT_BYTES can allow it) is a piece of its own.
    if (record.bytes + 1 > piece.length) {
      const own = Buffer.allocUnsafe(record.bytes + 1);
      encodeLine(own, 0, record, index);
      yield own;
    } else {
      offset = encodeLine(piece, offset, record, index);
    }
    if (slices.due()) await slices.next();
  }
  if (offset > 0) yield piece.subarray(0, offset);
}

/**
 * Writes the record's line into `lines` at `offset` (copying its bytes where it holds them), checking its byte count;
 * returns the offset after it.
 */
function encodeLine(lines: Buffer, offset: number, record: LogRecord, index: number): number {
  const { utf8 } = record;
  // Counted before writing: a write into the line's room stops at a character that does not fit and says only what fit.
  checkBytes(utf8?.length ?? Buffer.byteLength(record.json, 'utf8'), record, index);
  if (utf8 === undefined) lines.write(record.json, offset, 'utf8');
  else lines.set(utf8, offset);
  lines[offset + record.bytes] = 0x0a;
  return offset + record.bytes + 1;
}
