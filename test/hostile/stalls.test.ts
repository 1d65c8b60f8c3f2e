// Clients that try to stall or exhaust the receiver, against the real `serve` process: a huge batch of tiny events
// must not keep health checks waiting, and unauthenticated bodies must not be read into memory.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { send } from '../support/http-client.ts';
import { startHealthProber } from '../support/health-prober.ts';
import { spawnServe } from '../support/serve-process.ts';
import { waitFor } from '../support/wait-for.ts';

const MB = 1_000_000;
const MiB = 1024 * 1024;

/** An EventList of `count` of the smallest events the receiver accepts: the most items, so the most work, per byte. */
function tinyEventList(count: number): Buffer {
  const parts: string[] = ['{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":['];
  for (let i = 0; i < count; i++) {
    parts.push(`${i === 0 ? '' : ','}{"auditID":"tiny-${String(i).padStart(8, '0')}","stage":"ResponseComplete","level":"Metadata","verb":"get"}`);
  }
  parts.push(']}');
  return Buffer.from(parts.join(''));
}

/** Sends `body` to `url` while probing /healthz; asserts the probes' latency and says what it measured. */
async function sendWhileProbing(url: string, body: Buffer, what: string, memory: () => number): Promise<{ status: number; body: string }> {
  const prober = startHealthProber(url);
  const started = performance.now();
  const answer = await send(url, body);
  const seconds = (performance.now() - started) / 1000;
  const latencies = await prober.stop();
  const at = (share: number): number => latencies[Math.floor(latencies.length * share)] ?? Infinity;
  const slowest = latencies.at(-1) ?? Infinity;
  console.log(`${what} (${(body.byteLength / MB).toFixed(1)} MB): ${answer.status} in ${seconds.toFixed(1)} s; ${latencies.length} /healthz probes: median ${at(0.5).toFixed(0)} ms, 95th percentile ${at(0.95).toFixed(0)} ms, slowest ${slowest.toFixed(0)} ms; peak RSS ${(memory() / MB).toFixed(0)} MB above idle`);
  assert.ok(latencies.length > 10, `only ${latencies.length} probes answered during the batch`);
  // The receiver holds its event loop for one slice (SLICE_MS, 4 ms) at a time, so a probe should wait well under
  // 100 ms, and on an idle machine does. This machine has 2 cores shared by 8 engineers' test runs (load average
  // 10-18): a busy process then waits its turn behind a dozen others, and V8's collections of a heap near 0.8 GB
  // pause it too, so single probes took 0.2-1.3 s in the runs here. Asserted, therefore: 100 ms for the median
  // probe, and 3 s (three of the kubelet's 1 s timeouts, its default failure threshold) for the slowest. Before
  // slicing, the slowest probe waited over 80 s and the median over 30 s.
  assert.ok(at(0.5) < 100, `the median /healthz probe took ${at(0.5).toFixed(0)} ms during the batch`);
  assert.ok(slowest < 3_000, `/healthz took ${slowest.toFixed(0)} ms during the batch`);
  return answer;
}

describe('no client can stall or exhaust the receiver', () => {
  test('a batch of 600,000 tiny events: /healthz keeps answering (100 ms) and every event is stored', { timeout: 180_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kar-stall-'));
    const output = join(dir, 'audit.log');
    // Keying and writing 600,000 records took over the default 20 s in a full `npm test` on the loaded machine; the
    // API server's attempt allows 30 s, so the test gives the sink the most the setting allows.
    const server = await spawnServe(['--output', output], { SINK_TIMEOUT_MS: '29000' });
    try {
      const body = tinyEventList(600_000);
      assert.ok(body.byteLength > 45 * MB && body.byteLength < 64 * MiB, `body of ${body.byteLength} bytes`);
      const idle = server.memory('VmRSS');
      const answer = await sendWhileProbing(server.url, body, '600k tiny events', () => server.memory('VmHWM') - idle);
      assert.equal(answer.status, 200, answer.body);
      assert.equal(readFileSync(output, 'utf8').split('\n').length - 1, 600_000);
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the same batch with a duplicate key in its last event: 400, and /healthz keeps answering while it is decoded again', { timeout: 180_000 }, async () => {
    // The fast scan finds duplicate keys only after parsing; the body is then decoded a second time, the thorough way,
    // to name the problem exactly: that pass must take slices too.
    const dir = mkdtempSync(join(tmpdir(), 'kar-stall-'));
    const output = join(dir, 'audit.log');
    const server = await spawnServe(['--output', output]);
    try {
      const valid = tinyEventList(600_000);
      const last = valid.lastIndexOf('{"auditID"');
      const body = Buffer.concat([valid.subarray(0, last), Buffer.from('{"verb":"list",'), valid.subarray(last + 1)]);
      const idle = server.memory('VmRSS');
      const answer = await sendWhileProbing(server.url, body, '600k tiny events, the last with a duplicate key', () => server.memory('VmHWM') - idle);
      assert.equal(answer.status, 400, answer.body);
      assert.match(answer.body, /items\[599999\].*duplicate object key/);
      assert.equal(readFileSync(output, 'utf8'), '');
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('16 concurrent unauthenticated 60 MB bodies: each refused with 401 unread, RSS stays under 300 MB above idle', { timeout: 180_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kar-unauth-'));
    const server = await spawnServe(['--output', join(dir, 'audit.log')], { AUTH_TOKENS: 'the-only-accepted-token-5d2e' });
    try {
      const body = Buffer.alloc(60 * MB, 0x20);
      const idle = server.memory('VmRSS');
      const statuses = await Promise.all(Array.from({ length: 16 }, () => postUnread(server.url, body)));
      const peak = server.memory('VmHWM') - idle;
      console.log(`16 unauthenticated 60 MB bodies: statuses ${statuses.join(',')} (0: reset first), peak RSS ${(peak / MB).toFixed(0)} MB above idle`);
      // Every client saw its 401 or a reset (the server closing while the body was still coming), and the server
      // answered each with 401, which its log says even for clients whose reset overtook the answer.
      assert.ok(statuses.every((status) => status === 401 || status === 0), statuses.join(','));
      // A reset can also overtake the server's log line: the line is written after the answer.
      const refused = () => server.logs().filter((entry) => entry.status === 401 && /missing credentials/.test(String(entry.msg))).length;
      await waitFor(() => refused() === 16);
      assert.equal(refused(), 16);
      assert.ok(peak < 300 * MB, `peak RSS ${(peak / MB).toFixed(0)} MB above idle`);
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * POSTs `body` on a raw socket and resolves with the status line's code, or 0 when the connection was reset before
 * an answer arrived: a server that refuses on the headers closes the connection while the body is still being sent,
 * and a reset can then overtake its answer.
 */
function postUnread(url: string, body: Buffer): Promise<number> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    let received = '';
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(received)?.[1] ?? 0));
    };
    const timer = setTimeout(done, 60_000);
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.on('close', done);
    socket.on('error', done);
    socket.write(`POST / HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nContent-Length: ${body.byteLength}\r\n\r\n`);
    socket.end(body);
  });
}
