/** `wafer import <model>`: import, run the graph passes, print the IR. */
import { writeFileSync } from 'node:fs';
import { printGraph } from '../../ir/text.js';
import { importModel, parseDims, runGraphPasses, type PassFlags } from './common.js';

export function importCommand(model: string, flags: PassFlags & { output?: string; passes: boolean }): void {
  const imported = importModel(model, parseDims(flags.dim));
  const g = flags.passes ? runGraphPasses(imported, flags) : imported;
  const text = printGraph(g);
  if (flags.output) writeFileSync(flags.output, text);
  else process.stdout.write(text.endsWith('\n') ? text : text + '\n');
}
