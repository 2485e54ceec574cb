#!/usr/bin/env node
// `npm run bench -- <name> [--json FILE]`: runs a benchmark from the compiled dist/bench.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/bench/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('bench: dist/ is missing; run `npm ci` (or `npm run build`) first\n');
  process.exit(2);
}
const { benchMain } = await import(entry.href);
process.exitCode = benchMain(process.argv);
