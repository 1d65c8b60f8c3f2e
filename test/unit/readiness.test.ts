import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createReadiness } from '../../src/cli/readiness.ts';
import { SinkError } from '../../src/errors.ts';
import { OutputWriteError } from '../../src/sinks/append-file.ts';

const epipe = (): SinkError =>
  new SinkError('writing 3 events to file failed', 'file', 3, { cause: new OutputWriteError("EPIPE on /run/audit.fifo: the FIFO's reader has gone away", 'EPIPE') });

describe('serve readiness', () => {
  it('is ready until an output fails with EPIPE, and ready again once a batch writes an event', () => {
    const readiness = createReadiness();
    assert.equal(readiness.notReadyBecause(), undefined);
    readiness.observe(503, 0, epipe());
    assert.match(readiness.notReadyBecause() ?? '', /^EPIPE on \/run\/audit\.fifo: /);
    readiness.observe(200, 0, undefined);
    assert.match(readiness.notReadyBecause() ?? '', /^EPIPE on /, 'a 200 that wrote nothing (all filtered, all retries) proves nothing');
    readiness.observe(200, 1, undefined);
    assert.equal(readiness.notReadyBecause(), undefined);
  });

  it('finds the EPIPE of one of several failed outputs, and ignores failures a retry can mend', () => {
    const readiness = createReadiness();
    readiness.observe(503, 0, new SinkError('cloudwatch failed', 'cloudwatch', 3, { cause: new Error('ThrottlingException') }));
    readiness.observe(503, 0, new OutputWriteError('ENOSPC on /var/log/audit.jsonl: no space left', 'ENOSPC'));
    readiness.observe(400, 0, undefined);
    assert.equal(readiness.notReadyBecause(), undefined, 'a full disk or a throttled API can recover on the next attempt');
    readiness.observe(503, 0, new AggregateError([new SinkError('cloudwatch failed', 'cloudwatch', 3), epipe()], '2 outputs failed'));
    assert.match(readiness.notReadyBecause() ?? '', /^EPIPE on /);
    readiness.observe(503, 0, new SinkError('cloudwatch failed', 'cloudwatch', 3));
    assert.match(readiness.notReadyBecause() ?? '', /^EPIPE on /, 'another failure does not make it ready');
  });
});
