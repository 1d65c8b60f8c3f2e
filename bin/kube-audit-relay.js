#!/usr/bin/env node
// The CLI is TypeScript run through tsx's loader, so the published package needs no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
await main();
