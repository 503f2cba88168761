#!/usr/bin/env node
// The `rlr` executable. It is a committed file, not the build output itself, so that npm links it
// into node_modules/.bin when a fresh checkout is installed: `npm ci` runs before `npm run build`
// has written dist/, and npm links no bin whose file does not exist yet.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/bin.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('error: @rlr/cli is not built (dist/bin.js is missing)\n  fix: run `npm run build` at the repository root\n');
  process.exit(1);
}
await import(entry.href);
