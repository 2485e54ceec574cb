#!/usr/bin/env node
// The `wafer` executable: runs the compiled CLI (built into dist/ by `npm ci` / `npm run build`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('wafer: dist/ is missing; run `npm ci` (or `npm run build`) in the wafer folder first\n');
  process.exit(2);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv);
