import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { SinkError } from '../../src/errors.ts';
import { createStreamSink } from '../../src/sinks/json-lines.ts';
import { fixtureRecords } from '../support/records.ts';
import { sendContext } from '../support/send-context.ts';

const records = fixtureRecords().slice(0, 50);

function collecting(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

describe('JSON-lines stream sink', () => {
  it('writes each record as its JSON and a newline, multi-byte characters included', async () => {
    const wide = records.map((record, index) => {
      const json = record.json.replace('{', `{"note":"héllo ✓ 𝄞 ${index}",`);
      return { ...record, json, bytes: Buffer.byteLength(json, 'utf8') };
    });
    const { stream, text } = collecting();
    const result = await createStreamSink(stream).send(wide, sendContext());
    assert.equal(result.written, wide.length);
    assert.equal(text(), wide.map((record) => `${record.json}\n`).join(''));
  });

  it('refuses a batch whose byte counts do not match its JSON, writing nothing', async () => {
    const wrong = [records[0]!, { ...records[1]!, bytes: records[1]!.bytes - 1 }];
    const { stream, text } = collecting();
    await assert.rejects(createStreamSink(stream).send(wrong, sendContext()), (error: unknown) => {
      assert.ok(error instanceof SinkError);
      assert.match(error.message, /^writing 2 events to stdout failed \(record 1 of the batch says \d+ bytes but its JSON encodes to \d+\)$/);
      return true;
    });
    assert.equal(text(), '');
  });
});
