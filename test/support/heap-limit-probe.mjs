// Preloaded (NODE_OPTIONS=--import) into node started the way users start the relay: prints V8's heap size limit,
// which counts the young generation's reservation, and exits before the CLI runs.
import { getHeapStatistics } from 'node:v8';

process.stdout.write(`${getHeapStatistics().heap_size_limit}\n`);
process.exit(0);
