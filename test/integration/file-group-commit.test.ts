// The file sink on a real file under concurrent batches: the file is opened O_DSYNC (as the kernel reports it), so a
// write is durable when it returns; batches that arrive while a write is in flight are written together by the next
// one; none is answered before the write that covers its bytes has returned; a group that fails (a real tmpfs filling
// mid-group) fails every batch of it and is cut back to where it began, leaving the batches answered before it intact.
import assert from 'node:assert/strict';
import { constants, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { SinkError } from '../../src/errors.ts';
import { type LogRecord, recordWith } from '../../src/record.ts';
import { createFileSink, LINE_PIECE_BYTES } from '../../src/sinks/json-lines.ts';
import type { Sink, SinkResult } from '../../src/sinks/sink.ts';
import { linesOf, recordFromLine, recordsOfAbout } from '../support/records.ts';
import { sendContext } from '../support/send-context.ts';
import { syntheticEvents } from '../support/synthetic-events.ts';
import { cannotMountTmpfs, mountTmpfs, type Tmpfs } from '../support/tmpfs.ts';
import { waitFor } from '../support/wait-for.ts';

// FileHandle is not exported as a class: its prototype is taken from an opened file.
const probe = await open(fileURLToPath(import.meta.url), 'r');
const fileHandlePrototype = Object.getPrototypeOf(probe) as FileHandle;
await probe.close();

/** A write that returned or is returning: whether its descriptor is O_DSYNC, what it took, and the file's size after it. */
interface Write {
  /** The descriptor was opened O_DSYNC, so the write's bytes were durable when it returned. */
  dsync: boolean;
  /** The bytes the write took (0 until it returns; a failed write takes none). */
  written: number;
  /** The file's size after the write: what is durable once it has returned. */
  covers: number;
  done: boolean;
}

/** The flags a descriptor of this process was opened with, as the kernel reports them. */
function openFlags(fd: number): number {
  const flags = /^flags:\s+([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1];
  assert.ok(flags, `no flags in /proc/self/fdinfo/${fd}`);
  return Number.parseInt(flags, 8);
}

/**
 * Watches every real writev of a FileHandle and can hold its return (as a slow disk would): each call runs the real
 * writev, reads the descriptor's flags and the file's size, then waits while held.
 */
function watchWrites() {
  const prototype = fileHandlePrototype;
  const real = prototype.writev;
  const calls: Write[] = [];
  let release: (() => void) | undefined;
  let gate: Promise<void> | undefined;
  prototype.writev = async function (this: FileHandle, buffers: readonly NodeJS.ArrayBufferView[], position?: number) {
    const call: Write = { dsync: false, written: 0, covers: -1, done: false };
    calls.push(call);
    const result = await real.call(this, buffers, position);
    call.written = result.bytesWritten;
    call.dsync = (openFlags(this.fd) & constants.O_DSYNC) !== 0;
    call.covers = (await this.stat()).size;
    await gate;
    call.done = true;
    return result;
  } as FileHandle['writev'];
  return {
    calls,
    hold() {
      gate = new Promise((resolve) => (release = resolve));
    },
    release() {
      gate = undefined;
      release?.();
    },
    restore() {
      this.release();
      prototype.writev = real;
    },
  };
}

/** Lets every pending callback run, a bounded number of event-loop turns (each batch's encoding takes a few). */
async function turns(count = 50): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise((resolve) => setImmediate(resolve));
}


describe('file output under concurrent batches (group commit)', () => {
  let dir = '';
  let sink: Sink | undefined;
  let watch: ReturnType<typeof watchWrites> | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'relay-group-commit-'));
    watch = watchWrites();
  });
  afterEach(async () => {
    watch?.restore();
    await sink?.close();
    sink = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  /** Sends `first`, holds its write while `rest` arrive (so they wait and form the next group), then lets it go. */
  async function groupAfter(first: readonly LogRecord[], rest: readonly (readonly LogRecord[])[]): Promise<PromiseSettledResult<SinkResult>[]> {
    watch!.hold();
    const sent = [sink!.send(first, sendContext())];
    await waitFor(() => watch!.calls.length === 1);
    // One after another, each given the turns to be encoded and join the group in this order: a large batch's byte
    // check takes slices, and a small batch sent beside it would join first.
    for (const batch of rest) {
      sent.push(sink!.send(batch, sendContext()));
      await turns();
    }
    watch!.release();
    return Promise.allSettled(sent);
  }

  it('writes the batches that arrive during a write with one O_DSYNC write, and answers each only after the one covering it has returned', async () => {
    const path = join(dir, 'audit.log');
    sink = await createFileSink(path);
    const batches = Array.from({ length: 8 }, () => syntheticEvents(20, 700).map(recordFromLine));
    const answeredBeforeItsWrite: number[] = [];
    const answered = new Set<number>();
    const send = (index: number) =>
      sink!.send(batches[index]!, sendContext()).then((result) => {
        // At the moment of the answer: the batch is in the file, within what a returned write made durable.
        const end = readFileSync(path, 'utf8').indexOf(linesOf(batches[index]!)) + Buffer.byteLength(linesOf(batches[index]!));
        if (!watch!.calls.some((call) => call.done && call.covers >= end)) answeredBeforeItsWrite.push(index);
        answered.add(index);
        return result;
      });

    // Act: the first batch's write is slow; seven more arrive meanwhile.
    watch!.hold();
    const first = send(0);
    await waitFor(() => watch!.calls.length === 1);
    const rest = batches.slice(1).map((_, index) => send(index + 1));
    await turns();
    assert.equal(watch!.calls.length, 1, 'the seven wait for the write in flight');
    assert.equal(answered.size, 0, 'nothing is answered while the write covering it runs');
    watch!.release();
    const results = await Promise.all([first, ...rest]);

    // Assert
    assert.deepEqual(answeredBeforeItsWrite, []);
    assert.deepEqual(results.map((result) => result.written), batches.map(() => 20));
    assert.equal(watch!.calls.length, 2, 'one write for the first batch, one for the seven written together');
    assert.deepEqual(watch!.calls.map((call) => call.dsync), [true, true], 'the file is open O_DSYNC: each write is durable when it returns');
    assert.equal(readFileSync(path, 'utf8'), batches.map(linesOf).join(''), 'each batch whole, its lines in order, batches in arrival order');
  });

  it('writes on after a writev that took only part of a group, every byte once and in order', async () => {
    const path = join(dir, 'audit.log');
    sink = await createFileSink(path);
    const batches = Array.from({ length: 4 }, () => syntheticEvents(20, 700).map(recordFromLine));
    // As a full pipe or a signal can: each writev takes the first 5,000 bytes it is given, across buffers.
    const real = fileHandlePrototype.writev;
    let writevs = 0;
    fileHandlePrototype.writev = function (this: FileHandle, buffers: readonly NodeJS.ArrayBufferView[], position?: number) {
      // Four batches take about 12 calls; a loop that never moves on to the rest would write forever.
      if (++writevs > 1_000) return Promise.reject(new Error('writev called 1,000 times: the rest of the group never shrank'));
      const prefix: Buffer[] = [];
      let room = 5_000;
      for (const buffer of buffers as readonly Buffer[]) {
        if (room === 0) break;
        prefix.push(buffer.subarray(0, room));
        room -= Math.min(room, buffer.length);
      }
      return real.call(this, prefix, position);
    } as FileHandle['writev'];
    try {
      const outcomes = await groupAfter(batches[0]!, batches.slice(1));
      assert.deepEqual(outcomes.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value.written : outcome.reason)), [20, 20, 20, 20]);
    } finally {
      fileHandlePrototype.writev = real;
    }
    assert.ok(writevs > batches.length, `${writevs} writev calls: each took part of what it was given`);
    assert.equal(readFileSync(path, 'utf8'), batches.map(linesOf).join(''));
  });

  it('writes a batch over LINE_PIECE_BYTES piece by piece within its group, its first piece with the batches gathered before it', async () => {
    const path = join(dir, 'audit.log');
    sink = await createFileSink(path);
    const small = Array.from({ length: 3 }, () => syntheticEvents(20, 700).map(recordFromLine));
    const large = recordsOfAbout(3.5 * LINE_PIECE_BYTES);
    // The group after the first: a small batch, the large one, a small one.
    const outcomes = await groupAfter(small[0]!, [small[1]!, large, small[2]!]);
    assert.deepEqual(outcomes.map((outcome) => outcome.status), ['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
    const writes = watch!.calls.map((call) => call.written);
    const smallBytes = Buffer.byteLength(linesOf(small[1]!));
    assert.ok(writes[1]! > smallBytes + LINE_PIECE_BYTES / 2, `the group's first writev took ${writes[1]} bytes: the small batch and the large one's first piece`);
    assert.ok(writes.length >= 1 + 4, `${writes.length} writev calls: the first batch, then about 3.5 pieces`);
    assert.ok(Math.max(...writes.slice(1)) <= smallBytes + LINE_PIECE_BYTES, `the largest writev took ${Math.max(...writes.slice(1))} bytes`);
    assert.equal(readFileSync(path, 'utf8'), [small[0]!, small[1]!, large, small[2]!].map(linesOf).join(''));
  });

  it('refuses a large batch whose byte counts are wrong before it joins a group: the batches with it are stored', async () => {
    const path = join(dir, 'audit.log');
    sink = await createFileSink(path);
    const small = Array.from({ length: 3 }, () => syntheticEvents(20, 700).map(recordFromLine));
    const large = recordsOfAbout(1.5 * LINE_PIECE_BYTES);
    const wrong = [...large.slice(0, -1), recordWith(large.at(-1)!, { bytes: large.at(-1)!.bytes - 1 })];
    const outcomes = await groupAfter(small[0]!, [small[1]!, wrong, small[2]!]);
    assert.deepEqual(
      outcomes.map((outcome) => outcome.status),
      ['fulfilled', 'fulfilled', 'rejected', 'fulfilled'],
    );
    assert.match(((outcomes[2] as PromiseRejectedResult).reason as Error).message, /record \d+ of the batch says \d+ bytes but its JSON encodes to \d+/);
    assert.equal(readFileSync(path, 'utf8'), [small[0]!, small[1]!, small[2]!].map(linesOf).join(''));
  });
});

const skip = cannotMountTmpfs();
if (skip) console.log(`# skipping the full-disk group test: ${skip}`);

describe('a group that runs out of space', { skip }, () => {
  let disk: Tmpfs | undefined;
  let watch: ReturnType<typeof watchWrites> | undefined;
  let sink: Sink | undefined;
  before(() => {
    disk = mountTmpfs('relay-group-full-', '4m');
  });
  after(async () => {
    watch?.restore();
    await sink?.close();
    disk?.remove();
  });

  it('fails every batch of the group, cuts the file back to where the group began, keeps what was answered before', async (t) => {
    // CI runs as root and must run this case, not skip it.
    assert.ok(!(disk!.failure && process.env.CI === 'true'), `CI=true, but ${disk!.failure}`);
    if (disk!.failure) {
      t.skip(disk!.failure);
      return;
    }
    // Arrange: batches of ~100 KB but D, over a piece (~1.6 MB), and 1.5 MB free: A and B fit, then C, D and E are
    // written as one group, C with D's first piece, which fit, then D's second piece, which runs out of space.
    const path = join(disk!.path, 'audit.log');
    const filler = disk!.fillUntil(1_500 * 1024);
    const [a, b, c, e] = Array.from({ length: 4 }, () => syntheticEvents(100, 1_000).map(recordFromLine)) as [LogRecord[], LogRecord[], LogRecord[], LogRecord[]];
    const d = recordsOfAbout(1.5 * LINE_PIECE_BYTES);
    const groupBytes = [c, d, e].reduce((total, batch) => total + Buffer.byteLength(linesOf(batch)), 0);
    sink = await createFileSink(path);
    watch = watchWrites();
    assert.equal((await sink.send(a, sendContext())).written, 100);

    // Act: B's write is slow; C, D and E arrive meanwhile, in this order (D's byte check takes slices), and wait for it.
    watch.hold();
    let bAnswered = false;
    const sentB = sink.send(b, sendContext()).then((result) => ((bAnswered = true), result));
    await waitFor(() => watch!.calls.length === 2);
    const group: Promise<SinkResult>[] = [];
    for (const records of [c, d, e]) {
      group.push(sink.send(records, sendContext()));
      await turns();
    }
    assert.equal(bAnswered, false, 'B is not answered before its write returns');
    watch.release();
    assert.equal((await sentB).written, 100);
    const outcomes = await Promise.allSettled(group);
    // Calls 0 and 1 wrote A and B.
    const groupWrites = watch.calls.slice(2).map((call) => call.written);
    assert.ok(groupWrites.some((bytes) => bytes > Buffer.byteLength(linesOf(c))), `writes of the group: ${groupWrites.join(', ')} bytes: one reached into D before the disk was full`);

    // Assert: all three fail, naming the group; only A and B are in the file.
    for (const outcome of outcomes) {
      assert.equal(outcome.status, 'rejected', 'every batch of the failed group is answered as a failure');
      const error = (outcome as PromiseRejectedResult).reason as Error;
      assert.ok(error instanceof SinkError);
      assert.match(error.message, new RegExp(`ENOSPC on \\S+audit\\.log: no space left on the device \\(\\d+ bytes free on its filesystem, the 3 batches written together need ${groupBytes} bytes\\).*; the file was cut back to where the 3 batches written together began, each of which fails$`));
    }
    assert.equal(readFileSync(path, 'utf8'), linesOf(a) + linesOf(b), 'A and B intact, nothing of C, D or E');

    // Space returns; the retries are stored whole.
    rmSync(filler);
    for (const records of [c, d, e]) await sink.send(records, sendContext());
    assert.equal(readFileSync(path, 'utf8'), [a, b, c, d, e].map(linesOf).join(''));
  });
});
