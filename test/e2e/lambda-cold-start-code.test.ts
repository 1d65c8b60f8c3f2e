// What every cold start of the Lambda loads: the handler's bundle and the chunks it imports statically, built as
// serverless.yml builds it. The handler takes the core from its modules, not src/index.ts, which re-exports the
// Azure Monitor sink and with it @azure/monitor-ingestion and its pipeline (~90 KB parsed at every cold start,
// docs/performance.md); the S3, Azure Blob and HTTP outputs are chunks loaded only when OUTPUTS names one.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { buildLambdaBundle, staticOutputs } from '../../tools/lambda-bundle.ts';

describe('the code every Lambda cold start loads', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kar-lambda-bundle-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('holds the CloudWatch Logs client and none of the Azure SDK, src/index.ts or the optional outputs', { timeout: 120_000 }, async () => {
    const loaded = staticOutputs(await buildLambdaBundle({ outdir: dir, sourcemap: false })).flatMap((output) => Object.keys(output.inputs));
    assert.ok(loaded.some((input) => input.includes('node_modules/@aws-sdk/client-cloudwatch-logs/')), 'the check looks at the right bundle');
    const unwanted = loaded.filter(
      (input) => input.includes('node_modules/@azure/') || input === 'src/index.ts' || /^src\/sinks\/(s3-archive|azure-blob-archive|http-forward)\.ts$/.test(input),
    );
    assert.deepEqual(unwanted, []);
  });
});
