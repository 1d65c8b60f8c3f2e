#!/usr/bin/env -S node --max-semi-space-size=2
// The CLI as compiled JavaScript (dist/, from `npm run build`, which `npm install` runs through `prepare`): no
// TypeScript loader at run time, so it starts fast and writes nothing outside its output (read-only root filesystems).
// A young generation of 2 MB semi-spaces instead of V8's 16: a large batch's short-lived garbage no longer adds up
// to tens of MB at its peak (docs/performance.md, "Third round"). V8 reads the flag only when the process starts, so
// it is on the line that starts node; the Dockerfile's ENTRYPOINT gives it too.
import { main } from '../dist/cli/main.js';

await main();
