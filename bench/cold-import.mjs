// Child process of bench/bundle.ts: imports one built bundle in a fresh process, as a Lambda cold start does, and
// prints the import time in milliseconds. With no argument it imports nothing, for the bare process baseline.
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const [bundle] = process.argv.slice(2);
const started = performance.now();
if (bundle) {
  const { handler } = await import(pathToFileURL(bundle).href);
  if (typeof handler !== 'function') throw new Error('the bundle exports no handler function');
}
process.stdout.write(`${performance.now() - started}\n`);
