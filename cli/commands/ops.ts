/** `wafer ops`: the graph ops the reference semantics define. */
import { supportedOps } from '../../ir/ops/index.js';

export function opsCommand(): void {
  const ops = supportedOps();
  process.stdout.write(`${ops.join('\n')}\n${ops.length} ops\n`);
}
