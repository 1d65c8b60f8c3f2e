import assert from 'node:assert/strict';
import { createWriteStream, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, type Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { SinkError } from '../../src/errors.ts';
import { createStreamSink, LINE_PIECE_BYTES } from '../../src/sinks/json-lines.ts';
import { recordWith } from '../../src/record.ts';
import { fixtureRecords, linesOf, recordFromLine, recordsOfAbout } from '../support/records.ts';
import { sendContext } from '../support/send-context.ts';

const records = fixtureRecords().slice(0, 50);

function collecting(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

/** The sizes of the chunks handed to `stream.write`. */
function chunkSizes(stream: Writable): number[] {
  const sizes: number[] = [];
  const write = stream.write.bind(stream) as (chunk: Buffer, callback: (error?: Error | null) => void) => boolean;
  stream.write = ((chunk: Buffer, callback: (error?: Error | null) => void) => {
    sizes.push(chunk.length);
    return write(chunk, callback);
  }) as Writable['write'];
  return sizes;
}

/** About 3.5 pieces: a batch the sink must write in several. */
const largeBatch = () => recordsOfAbout(3.5 * LINE_PIECE_BYTES);

describe('JSON-lines stream sink', () => {
  it('writes each record as its JSON and a newline, multi-byte characters included, from bytes and from strings', async () => {
    const fromBytes = records.map((record, index) => recordFromLine(record.json.replace('{', `{"note":"héllo ✓ 𝄞 ${index}",`)));
    // A plain object with the JSON as a string, as a record the relay serialised again holds it.
    const fromStrings = fromBytes.map((record) => ({ ...record, json: record.json, utf8: undefined }));
    assert.ok(fromBytes.every((record) => record.utf8 !== undefined));
    const wide = [...fromBytes, ...fromStrings];
    const { stream, text } = collecting();
    const result = await createStreamSink(stream).send(wide, sendContext());
    assert.equal(result.written, wide.length);
    assert.equal(text(), linesOf(wide));
  });

  it('refuses a batch whose byte counts do not match its JSON, writing nothing, also a batch written in pieces', async () => {
    const large = largeBatch();
    for (const batch of [records.slice(0, 2), large]) {
      // The last record's count is wrong: a batch in pieces would have written the others before reaching it.
      const wrong = [...batch.slice(0, -1), recordWith(batch.at(-1)!, { bytes: batch.at(-1)!.bytes - 1 })];
      const { stream, text } = collecting();
      await assert.rejects(createStreamSink(stream).send(wrong, sendContext()), (error: unknown) => {
        assert.ok(error instanceof SinkError);
        assert.match(error.message, new RegExp(`^writing ${wrong.length} events to stdout failed \\(record ${wrong.length - 1} of the batch says \\d+ bytes but its JSON encodes to \\d+\\)$`));
        return true;
      });
      assert.equal(text(), '');
    }
  });

  it('writes a batch over LINE_PIECE_BYTES to a stream over a file descriptor in pieces of at most that size, every line whole and in order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'relay-pieces-'));
    try {
      const path = join(dir, 'out.jsonl');
      // An fs stream writes each chunk asynchronously and calls back once it is in the file, as stdout does.
      const stream = createWriteStream(path, { fd: openSync(path, 'w') });
      const sizes = chunkSizes(stream);
      const batch = largeBatch();
      const result = await createStreamSink(stream).send(batch, sendContext());
      await new Promise((resolve) => stream.end(resolve));
      assert.equal(result.written, batch.length);
      assert.ok(sizes.length >= 4, `${sizes.length} writes for about 3.5 pieces`);
      assert.ok(Math.max(...sizes) <= LINE_PIECE_BYTES, `the largest write took ${Math.max(...sizes)} bytes`);
      assert.equal(readFileSync(path, 'utf8'), linesOf(batch));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gives a stream that passes chunks on as they are (no file descriptor) each piece of a large batch in a buffer of its own', async () => {
    // A PassThrough hands the written buffer itself to its reader: a buffer reused for the next piece would change
    // lines the reader already holds.
    const { stream, text } = collecting();
    const batch = largeBatch();
    await createStreamSink(stream).send(batch, sendContext());
    assert.equal(text(), linesOf(batch));
  });
});
