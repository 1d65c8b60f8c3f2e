import { constants } from 'node:fs';
import { open, stat, statfs, type FileHandle } from 'node:fs/promises';
import { RelayError, SinkError } from '../errors.ts';
import { createGroupCommit } from './group-commit.ts';

/** What `--output` names, which decides what a completed batch means (docs/delivery.md). */
export type OutputKind = 'regular file' | 'pipe' | 'character device';

/** A structured log entry, as `serve` writes them to stderr. */
export type OutputLog = (entry: Readonly<Record<string, unknown>>) => void;

/** A failed write, its message safe to answer and log: it names the cause and the fix, never event content. */
export class OutputWriteError extends RelayError {
  override readonly name = 'OutputWriteError';
  constructor(
    message: string,
    readonly code: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * A batch's lines: one buffer, or, for a large batch, pieces encoded as the output takes them, each valid only until
 * the next is asked for (they share one buffer), so that a large batch never needs a buffer of its size.
 */
export type BatchLines = Buffer | LinePieces;

interface LinePieces {
  /** The bytes of all the pieces. */
  readonly bytes: number;
  readonly pieces: AsyncIterable<Buffer>;
}

const bytesOf = (lines: BatchLines): number => (Buffer.isBuffer(lines) ? lines.length : lines.bytes);

/** An output opened for appending whole batches of lines. */
export interface AppendOutput {
  readonly kind: OutputKind;
  /**
   * Appends every byte of `lines`, durably for a regular file; on failure nothing of `lines` stays in a regular file.
   * A batch whose `signal` aborts before its write starts is not written.
   */
  append(lines: BatchLines, signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

/** `a+` (append, create, read and write) and O_DSYNC: each write is durable when it returns. */
const REGULAR_FILE_FLAGS = constants.O_APPEND | constants.O_CREAT | constants.O_RDWR | constants.O_DSYNC;

/** How far back a torn tail is measured for the log; a longer fragment is reported as "over" this. */
const TAIL_SCAN_BYTES = 1024 * 1024;

/**
 * Opens `path` for appending. A regular file is opened with O_DSYNC, so that each write returns once its bytes are as
 * durable as an fdatasync after it would make them; batches that arrived while the group before was being written
 * are written together (group commit). A group is cut back to where it began when a write fails, and the file checked
 * for a torn last line on open and after every failed write: a file that does not end in a newline gets one, so the
 * next record starts on a line of its own (the fragment is kept and logged). Pipes, FIFOs and character devices
 * cannot be fsynced, cut back or read: for them the completed write is the store, one batch at a time.
 */
export async function openAppendOutput(path: string, log: OutputLog): Promise<AppendOutput> {
  let file: FileHandle;
  let kind: OutputKind;
  try {
    // Read access only for a regular file (to check its last line): opened read-write, a FIFO would be its own reader.
    // O_DSYNC rather than a write and then an fdatasync: one trip through the thread pool per group instead of two,
    // and each trip's completion waits for the event loop, behind other batches' slices of up to 4 ms.
    const existing = await stat(path).catch(() => undefined);
    file = await open(path, existing === undefined || existing.isFile() ? REGULAR_FILE_FLAGS : 'a');
    kind = kindOf(await file.stat());
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new SinkError(`cannot open ${path} for appending (${code}); check the directory exists and is writable, or give --output another path (OUTPUTS)`, 'file', 0, { cause: error });
  }
  if (kind !== 'regular file') {
    // One batch at a time: a write to a pipe may take part of a batch, and the rest must follow before another's.
    let queue: Promise<unknown> = Promise.resolve();
    const appendNow = async (lines: BatchLines, signal: AbortSignal | undefined): Promise<void> => {
      signal?.throwIfAborted();
      try {
        await writeBatches(file, [lines]);
      } catch (error) {
        throw await describeFailure(error, path, kind, groupNeeds(1, bytesOf(lines)), `the ${kind} may have taken part of the batch, which the retry writes again`);
      }
    };
    return {
      kind,
      append(lines, signal) {
        const appended = queue.then(() => appendNow(lines, signal));
        queue = appended.catch(() => {});
        return appended;
      },
      async close() {
        await queue;
        await file.close();
      },
    };
  }

  let tailChecked = false;
  const ensureLineStart = async (when: string): Promise<void> => {
    const { size } = await file.stat();
    const fragment = await tornTailBytes(file, size);
    if (fragment > 0) {
      await writeAll(file, [Buffer.from('\n')]);
      log({
        level: 'warn',
        msg: `${path} ended in a partial line (${fragment >= TAIL_SCAN_BYTES ? `over ${TAIL_SCAN_BYTES}` : fragment} bytes after the last newline, ${when}); appended a newline so the next event starts on a line of its own, the partial line is kept as it was`,
        output: path,
      });
    }
    tailChecked = true;
  };
  // A disk too full even for the newline must not stop the start: the first batch tries again and reports it.
  await ensureLineStart('found on opening it').catch(() => {});

  // Batches that arrive while a group's write is in flight are written together by one writev, made durable by one
  // disk flush (docs/delivery.md) instead of one per batch, and no batch waits for more than the group in flight
  // before its own is started.
  const group = createGroupCommit<BatchLines>(async (batches) => {
    const bytes = batches.reduce((total, lines) => total + bytesOf(lines), 0);
    if (!tailChecked) {
      try {
        await ensureLineStart('left by the failed write before');
      } catch (error) {
        throw await describeFailure(error, path, kind, groupNeeds(batches.length, bytes), `nothing of ${batches.length === 1 ? 'the batch' : 'these batches'} was written`);
      }
    }
    const progress = { written: 0 };
    try {
      await writeBatches(file, batches, progress);
    } catch (error) {
      // Cut back by the bytes this group's writes took, from the size after them: a stat only when a group fails, not
      // one before every group on the way to its answers. Every batch before this group was answered only after its
      // own write had returned: the cut-back takes this group's bytes and nothing acknowledged.
      tailChecked = false;
      const cutBack = await file
        .stat()
        .then(({ size }) => file.truncate(Math.max(0, size - progress.written)))
        .then(
          () => true,
          () => false,
        );
      const began = batches.length === 1 ? 'the batch began' : `the ${batches.length} batches written together began, each of which fails`;
      const after = cutBack
        ? `the file was cut back to where ${began}`
        : 'cutting the file back failed too, so the next batch first makes sure it starts on a line of its own';
      throw await describeFailure(error, path, kind, groupNeeds(batches.length, bytes), after);
    }
  });

  return {
    kind,
    append: (lines, signal) => group.add(lines, signal),
    async close() {
      await group.idle();
      await file.close();
    },
  };
}

/** What a failed group needed, for the message: "the batch needs N bytes" when it was one batch. */
function groupNeeds(batches: number, bytes: number): string {
  return batches === 1 ? `the batch needs ${bytes} bytes` : `the ${batches} batches written together need ${bytes} bytes`;
}

/** The kind of an opened output; anything else (a block device) is refused as EINVAL. */
function kindOf(stats: { isFile(): boolean; isFIFO(): boolean; isCharacterDevice(): boolean }): OutputKind {
  if (stats.isFile()) return 'regular file';
  if (stats.isFIFO()) return 'pipe';
  if (stats.isCharacterDevice()) return 'character device';
  throw Object.assign(new Error('not a regular file, pipe, FIFO or character device'), { code: 'EINVAL' });
}

/**
 * Writes the batches in order: whole buffers gathered into one `writev`, a batch in pieces one piece at a time (with
 * whatever was gathered before it), since each piece is valid only until the next is taken.
 */
async function writeBatches(file: FileHandle, batches: readonly BatchLines[], progress?: WriteProgress): Promise<void> {
  let gathered: Buffer[] = [];
  for (const lines of batches) {
    if (Buffer.isBuffer(lines)) {
      gathered.push(lines);
      continue;
    }
    for await (const piece of lines.pieces) {
      await writeAll(file, [...gathered, piece], progress);
      gathered = [];
    }
  }
  await writeAll(file, gathered, progress);
}

/** The bytes the writes so far have taken, counted as each `writev` returns. */
interface WriteProgress {
  written: number;
}

/**
 * Writes every byte of `buffers`, in order, with as few `writev` calls as the kernel allows: a write may take fewer
 * bytes than asked (a filling disk, a signal) without failing, and the next call then reports why (ENOSPC).
 */
async function writeAll(file: FileHandle, buffers: readonly Buffer[], progress?: WriteProgress): Promise<void> {
  let rest = buffers.filter((buffer) => buffer.length > 0);
  while (rest.length > 0) {
    const { bytesWritten } = await file.writev(rest);
    if (bytesWritten <= 0) throw Object.assign(new Error('the write took no bytes'), { code: 'EIO' });
    if (progress) progress.written += bytesWritten;
    rest = unwritten(rest, bytesWritten);
  }
}

/** What is left of `buffers` after the first `written` bytes. */
function unwritten(buffers: readonly Buffer[], written: number): Buffer[] {
  let skip = written;
  let index = 0;
  while (index < buffers.length && skip >= buffers[index]!.length) skip -= buffers[index++]!.length;
  const rest = buffers.slice(index);
  if (rest.length > 0 && skip > 0) rest[0] = rest[0]!.subarray(skip);
  return rest;
}

/** Bytes after the last newline of a file of `size` bytes (0 when it ends in one or is empty). */
async function tornTailBytes(file: FileHandle, size: number): Promise<number> {
  if (size === 0) return 0;
  const length = Math.min(size, TAIL_SCAN_BYTES);
  const tail = Buffer.alloc(length);
  const { bytesRead } = await file.read(tail, 0, length, size - length);
  const last = tail.subarray(0, bytesRead).lastIndexOf(0x0a);
  if (last === bytesRead - 1) return 0;
  return last === -1 ? length : bytesRead - last - 1;
}

/** The failure as an OutputWriteError; a full disk says how much space is left and how much the batch needed. */
async function describeFailure(error: unknown, path: string, kind: OutputKind, needs: string, after: string): Promise<OutputWriteError> {
  const code = (error as NodeJS.ErrnoException).code ?? 'EIO';
  let cause = 'the write failed';
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    const free = await statfs(path).then(
      (stats) => `${stats.bavail * stats.bsize} bytes free on its filesystem`,
      () => 'free space unknown',
    );
    const what = code === 'ENOSPC' ? 'no space left on the device' : 'the disk quota is used up';
    cause = `${what} (${free}, ${needs}); free space or point --output (OUTPUTS) at a larger filesystem`;
  } else if (code === 'EPIPE') {
    cause = `the ${kind}'s reader has gone away; start a reader before the relay, or give --output (OUTPUTS) a file`;
  }
  return new OutputWriteError(`${code} on ${path}: ${cause}; ${after}`, code, { cause: error });
}
