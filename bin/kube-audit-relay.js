#!/usr/bin/env node
// The CLI as compiled JavaScript (dist/, from `npm run build`, which `npm install` runs through `prepare`): no
// TypeScript loader at run time, so it starts fast and writes nothing outside its output (read-only root filesystems).
import { main } from '../dist/cli/main.js';

await main();
