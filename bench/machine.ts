/** One line describing the machine a benchmark ran on (printed above every table). */
import { cpus, totalmem } from 'node:os';

export function machineLine(): string {
  const c = cpus();
  const model = c[0]?.model?.trim() ?? 'unknown CPU';
  return `machine: ${model}, ${c.length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}, ${process.platform}-${process.arch}`;
}

/** Formats rows as an aligned text table. */
export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  return cells.map((r) => r.map((c, i) => c.padStart(widths[i])).join('  ')).join('\n');
}
