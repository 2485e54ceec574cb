/**
 * Benchmark driver: `npm run bench -- <name> [--json FILE]`. Prints the machine line, then the
 * benchmark's table; with --json also writes its figures to FILE.
 */
import { writeFileSync } from 'node:fs';
import { machineLine } from './machine.js';
import { runEmulatorBench } from './emulator.js';
import { runGemmBench } from './gemm.js';
import { runGemvBench } from './gemv.js';
import { runLlmBench } from './llm.js';
import { runModelsBench } from './models.js';
import { runReferenceBench } from './reference.js';

/** A bench's output; `failures` lists the targets it checks that were missed (the run exits 1). */
export interface BenchResult { text: string; json: unknown; failures?: string[] }

const BENCHES: Record<string, () => BenchResult> = {
  reference: runReferenceBench,
  emulator: runEmulatorBench,
  gemm: runGemmBench,
  gemv: runGemvBench,
  models: runModelsBench,
  llm: runLlmBench,
};

export function benchMain(argv: string[]): number {
  const args = argv.slice(2);
  const name = args.find((a) => !a.startsWith('--'));
  const jsonAt = args.indexOf('--json');
  const jsonFile = jsonAt >= 0 ? args[jsonAt + 1] : undefined;
  if (!name || !(name in BENCHES) || (jsonAt >= 0 && !jsonFile)) {
    process.stderr.write(`usage: npm run bench -- <${Object.keys(BENCHES).join('|')}> [--json FILE]\n`);
    return 1;
  }
  const { text, json, failures = [] } = BENCHES[name]();
  const machine = machineLine();
  process.stdout.write(`${machine}\n${text}\n`);
  // A bench whose figures are rows (gemm, gemv) writes the array of rows itself; others an object.
  const doc = Array.isArray(json) ? json : { bench: name, machine, results: json };
  if (jsonFile) writeFileSync(jsonFile, JSON.stringify(doc, null, 1) + '\n');
  for (const f of failures) process.stderr.write(`bench ${name}: target missed: ${f}\n`);
  return failures.length ? 1 : 0;
}
