// Drop rules match with the API server's policy semantics (shared with the policy presets), over serve.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { eventList, send } from '../support/http-client.ts';
import { Fixture, fixtureFile } from '../support/records.ts';
import { serveRefusal, startServe } from '../support/serve.ts';

const metadata = fixtureFile(Fixture.Metadata);
const isExec = (line: string): boolean => line.includes('"subresource":"exec"');

async function stored(rules: unknown): Promise<string[]> {
  const server = await startServe([], { DROP_RULES: JSON.stringify(rules) });
  try {
    assert.equal((await send(server.url, eventList(metadata))).status, 200);
  } finally {
    assert.equal(await server.stop(), 0);
  }
  return server.stdout().split('\n').slice(0, -1);
}

describe('drop rules', () => {
  test('`pods` does not match the pods/exec subresource; `pods/*` and `*/exec` do', async () => {
    assert.ok(metadata.some(isExec));
    const podsOnly = await stored([{ resources: [{ group: '', resources: ['pods'] }] }]);
    assert.ok(podsOnly.some(isExec), 'exec kept by a `pods` rule');
    assert.ok(!podsOnly.some((line) => line.includes('"resource":"pods"') && !line.includes('"subresource"')), 'pods dropped');
    for (const pattern of ['pods/*', '*/exec']) {
      const kept = await stored([{ resources: [{ group: '', resources: [pattern] }] }]);
      assert.ok(!kept.some(isExec), `exec dropped by ${pattern}`);
    }
  });

  test('an empty list, or URLs beside resources, is refused: under policy semantics either would widen the rule', async () => {
    const { code, stderr } = await serveRefusal([], {
      DROP_RULES: JSON.stringify([{ verbs: [] }, { nonResourceURLs: ['/healthz'], namespaces: ['kube-system'] }]),
    });
    assert.equal(code, 2);
    assert.match(stderr, /DROP_RULES\[0\]: verbs is an empty list, which matches anything: leave it out or list values/);
    assert.match(stderr, /DROP_RULES\[1\]: nonResourceURLs cannot be combined with resources or namespaces/);
  });
});
