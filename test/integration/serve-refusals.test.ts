// Every way a request is refused, through the real server: the status, a message that says what to fix, and
// nothing written, not even the valid events of a batch that holds one bad item.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { eventList, send } from '../support/http-client.ts';
import { Fixture, fixtureFile } from '../support/records.ts';
import { startServe, type ServeHandle } from '../support/serve.ts';

const lines = fixtureFile(Fixture.Metadata).slice(0, 5);
const valid = eventList(lines);

describe('refused requests write nothing', () => {
  const output = join(mkdtempSync(join(tmpdir(), 'kar-refusals-')), 'audit.log');
  let server: ServeHandle;
  before(async () => {
    server = await startServe(['--output', output, '--max-body-bytes', '65536']);
  });
  after(async () => {
    await server.stop();
  });

  const cases: { name: string; body: string | Uint8Array; status: number; message: RegExp; method?: string; headers?: Record<string, string> }[] = [
    { name: 'empty body', body: '', status: 400, message: /body is empty/ },
    { name: 'not JSON', body: 'kind: EventList', status: 400, message: /not a JSON object; expected an EventList/ },
    { name: 'cut-off JSON', body: valid.slice(0, -40), status: 400, message: /not valid JSON|ends/ },
    { name: 'trailing garbage', body: `${valid} {}`, status: 400, message: /continues after the EventList/ },
    { name: 'invalid UTF-8', body: Buffer.concat([Buffer.from(valid.slice(0, 100)), Buffer.from([0xff, 0xfe]), Buffer.from(valid.slice(100))]), status: 400, message: /UTF-8/ },
    { name: 'a JSON array', body: `[${lines.join(',')}]`, status: 400, message: /array/ },
    { name: 'wrong kind', body: '{"kind":"Pod","apiVersion":"v1","metadata":{"name":"x"}}', status: 400, message: /kind "Pod"/ },
    { name: 'wrong apiVersion', body: valid.replace('"apiVersion":"audit.k8s.io/v1"', '"apiVersion":"audit.k8s.io/v2"'), status: 400, message: /apiVersion/ },
    { name: 'items not a list', body: '{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":{}}', status: 400, message: /items/ },
    { name: 'item 3 not an object', body: eventList([lines[0]!, lines[1]!, lines[2]!, '"an event"', lines[4]!]), status: 400, message: /items\[3\].*not an object|items\[3\].*object/ },
    { name: 'item without auditID', body: eventList([lines[0]!, lines[1]!.replace(/"auditID":"[^"]+",/, '')]), status: 400, message: /items\[1\].*auditID/ },
    { name: 'item with a duplicate key', body: eventList([lines[0]!.replace('{', '{"stage":"ResponseStarted",')]), status: 400, message: /not valid JSON: duplicate object key at character \d+/ },
    { name: 'over --max-body-bytes', body: eventList(Array.from({ length: 80 }, () => lines[0]!)), status: 413, message: /65536-byte limit.*batch-max-size/ },
    { name: 'gzip content-encoding', body: valid, status: 415, message: /content-encoding/, headers: { 'content-encoding': 'gzip' } },
    { name: 'GET on the webhook path', body: '', status: 405, message: /method GET not allowed/, method: 'GET' },
    { name: 'PUT', body: valid, status: 405, message: /method PUT/, method: 'PUT' },
  ];
  for (const { name, body, status, message, method, headers } of cases) {
    test(`${name}: ${status}`, async () => {
      const answer = await send(server.url, body, { ...(method ? { method } : {}), ...(headers ? { headers } : {}) });
      assert.equal(answer.status, status, answer.body);
      const { message: text } = JSON.parse(answer.body) as { message: string };
      assert.match(text, message);
      if (status === 405) assert.equal(answer.headers.allow, 'POST');
      for (const line of lines) {
        const auditID = (JSON.parse(line) as { auditID: string }).auditID;
        assert.ok(!text.includes(auditID), 'messages never quote event content');
      }
      assert.equal(readFileSync(output, 'utf8'), '');
    });
  }

  test('a body over the limit sent chunked, without content-length, is cut off with 413', async () => {
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const outgoing = request(new URL(server.url), { method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      });
      outgoing.on('error', reject);
      for (let i = 0; i < 80; i++) outgoing.write(`${lines[0]}\n`);
      outgoing.end();
    });
    assert.equal(answer.status, 413);
    assert.equal(readFileSync(output, 'utf8'), '');
  });

  test('health endpoints answer 200 and are not logged', async () => {
    for (const path of ['/healthz', '/livez', '/readyz']) {
      assert.equal((await send(server.url, undefined, { method: 'GET', path })).status, 200);
    }
    assert.equal(server.logs().filter((entry) => String(entry.path).endsWith('z')).length, 0);
  });

  test('after all that, a valid batch on any path is stored whole', async () => {
    const answer = await send(server.url, valid, { path: '/audit/webhook/' });
    assert.equal(answer.status, 200, answer.body);
    assert.equal(readFileSync(output, 'utf8'), `${lines.join('\n')}\n`);
    const refused = server.logs().filter((entry) => entry.level === 'warn' && typeof entry.status === 'number');
    assert.ok(refused.length >= cases.length, 'each refusal is logged');
  });
});
