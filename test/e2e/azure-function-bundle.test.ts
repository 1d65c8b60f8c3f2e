import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { BATCH_LOG_PREFIX } from '../../functions/azure/batch-log.ts';
import { bundleAzureFunctionApp } from '../../infra/azure/bundle.ts';
import { type AzureStandIns, RULE_ID, startAzureStandIns } from '../support/azure-monitor.ts';
import { batches, plainLines, repeatedLines, uniqueEvents } from '../support/event-lists.ts';

const run = promisify(execFile);
const TOKEN = '9a8b7c6d5e4f30211203f4e5d6c7b8a9';

// The driver runs in the child as the Functions worker would: it imports the bundle (which registers the trigger and
// exports its handler) and calls the handler with real @azure/functions HttpRequest objects.
const DRIVER = `
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
const { HttpRequest, InvocationContext } = createRequire(process.env.PROJECT_ROOT + '/package.json')('@azure/functions');
const { receiveAuditEvents } = await import(process.env.BUNDLE);
const statuses = [];
const logs = [];
for (const body of JSON.parse(readFileSync(process.env.BODIES, 'utf8'))) {
  const request = new HttpRequest({ method: 'POST', url: 'https://kar.azurewebsites.net/audit?timeout=30s',
    headers: { 'content-type': 'application/json', authorization: 'Bearer ' + process.env.TEST_TOKEN }, body: { string: body } });
  const logHandler = (level, ...args) => logs.push([level, ...args]);
  const response = await receiveAuditEvents(request, new InvocationContext({ functionName: 'receive', logHandler }));
  statuses.push([response.status, JSON.parse(response.body).written]);
}
console.log(JSON.stringify({ statuses, logs }));
`;

describe('azure function bundle, deployed as built', () => {
  let azure: AzureStandIns;
  let dir: string;

  before(async () => {
    azure = await startAzureStandIns(13);
    dir = mkdtempSync(join(tmpdir(), 'kar-azure-bundle-'));
  });
  after(async () => {
    await azure.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('builds a self-contained app whose handler stores the corpus with only app settings, trusting the CA via NODE_EXTRA_CA_CERTS', async () => {
    const app = join(dir, 'app');
    const files = await bundleAzureFunctionApp(app);
    assert.deepEqual(files.map((file) => file.slice(app.length + 1)), ['receive.js', 'host.json', 'package.json']);

    // A thousand events the relay stores unchanged and the table holds whole: three EventLists of 400.
    const lines = repeatedLines(1_000, plainLines().filter((line) => Buffer.byteLength(line) < 65_536));
    writeFileSync(join(dir, 'bodies.json'), JSON.stringify(batches(lines)));
    writeFileSync(join(dir, 'ca.pem'), azure.ingestion.ca);
    writeFileSync(join(dir, 'driver.mjs'), DRIVER);
    const from = azure.ingestion.rows().length;
    const { stdout } = await run(process.execPath, [join(dir, 'driver.mjs')], {
      cwd: app,
      env: {
        PATH: process.env.PATH,
        PROJECT_ROOT: process.cwd(),
        BUNDLE: join(app, 'receive.js'),
        BODIES: join(dir, 'bodies.json'),
        TEST_TOKEN: TOKEN,
        NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem'),
        IDENTITY_ENDPOINT: azure.identity.endpoint,
        IDENTITY_HEADER: azure.identity.header,
        LOGS_INGESTION_ENDPOINT: azure.ingestion.endpoint,
        LOGS_DCR_IMMUTABLE_ID: RULE_ID,
        CLUSTER_NAME: 'aks-bundle',
        AUTH_TOKENS: TOKEN,
      },
    });
    const { statuses, logs } = JSON.parse(stdout.trim().split('\n').at(-1)!) as { statuses: [number, number][]; logs: string[][] };
    assert.deepEqual(statuses.map(([status]) => status), [200, 200, 200]);
    // The built app logs what the template's alert rules and workbook match: one line per batch, one argument each.
    assert.equal(logs.length, statuses.length);
    for (const [level, line, ...more] of logs) {
      assert.deepEqual([level, more], ['information', []]);
      assert.ok(line!.startsWith(BATCH_LOG_PREFIX), line);
    }
    const expected = uniqueEvents(lines).length;
    assert.equal(statuses.reduce((sum, [, written]) => sum + written, 0), expected);
    const rows = azure.ingestion.rows().slice(from);
    assert.equal(rows.length, expected);
    assert.ok(rows.every((row) => row.Cluster === 'aks-bundle'));
  });
});
