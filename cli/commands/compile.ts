/**
 * `wafer compile <model.onnx> --target <preset|mesh:WxH|file.json> -o out.wafer`: import the model,
 * run the graph passes and the back end (compiler/compile.ts), and write the program file. Prints
 * what the compiler decided (the sub-region used, cores, memory map size, predicted cycles and time)
 * to stdout; --print-ir-before/after and --dump-dir show the IR around any pass, graph or back end
 * (the mesh IR with the pass's decisions as comments; the program's disassembly after emit);
 * --time-passes prints each pass's wall time to stderr. The written file depends only on the model
 * and the flags: compiling twice gives identical bytes.
 */
import { writeFileSync } from 'node:fs';
import { diag } from '../../ir/diagnostics.js';
import { encodeProgram } from '../../ir/program-codec.js';
import { parseTargetSpec } from '../../ir/target-presets.js';
import { cyclesToSeconds } from '../../ir/target.js';
import { compile } from '../../compiler/compile.js';
import { smallestSquareMesh } from '../../compiler/fit.js';
import { nodeHost } from '../../compiler/host.js';
import { CliExit } from '../exit.js';
import { parseDims, pipelineOptions, readInput, type PassFlags } from './common.js';
import { readFileSync } from 'node:fs';

export interface CompileFlags extends PassFlags {
  target: string;
  output: string;
  dtype?: string;
  layout?: string;
  gemm?: string;
  allreduce?: string;
  /** commander's --no-fuse sets this false. */
  fuse?: boolean;
}

/** A flag restricted to a list of words: undefined when absent, else the word (or exit 1 naming the choices). */
function choice<T extends string>(flag: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  process.stderr.write(`error: ${flag} expects ${allowed.join(', ')}; got '${value}'\n`);
  throw new CliExit(1);
}

export function compileCommand(model: string, flags: CompileFlags): void {
  if (flags.dtype !== undefined && flags.dtype !== 'f32' && flags.dtype !== 'f16') {
    process.stderr.write(`error: --dtype expects f32 or f16, got '${flags.dtype}'\n`);
    throw new CliExit(1);
  }
  // `smallest[:<spec>]`: the smallest square mesh of that target's cores (compiler/fit.ts).
  const smallest = /^smallest(?::(.+))?$/.exec(flags.target);
  const target = parseTargetSpec(smallest ? smallest[1] ?? 'mesh:1x1' : flags.target, (path) => {
    try {
      return readFileSync(path, 'utf8');
    } catch (e) {
      const code = (e as { code?: string }).code;
      throw diag('W5001', `cannot read target file '${path}'${code ? ` (${code})` : ''}`, path, 'check the path');
    }
  });
  const layout = choice('--layout', flags.layout, ['auto', 'single', 'distributed'] as const);
  const gemm = choice('--gemm', flags.gemm, ['meshgemm', 'cannon', 'summa', 'auto'] as const);
  const allreduce = choice('--allreduce', flags.allreduce, ['ktree', 'chain', 'ring', 'auto'] as const);
  const bytes = readInput(model);
  const options = {
    ...pipelineOptions(flags),
    dims: parseDims(flags.dim),
    dtype: flags.dtype as 'f32' | 'f16' | undefined,
    layout, gemm, allreduce, fuse: flags.fuse,
    modelPath: model,
    host: nodeHost,
  };
  let found: string[] = [];
  let result;
  if (smallest) {
    const fit = smallestSquareMesh(bytes, { ...options, base: target });
    result = fit.result;
    const refused = fit.refused.length ? `; sides ${fit.lowerBound}..${fit.side - 1} refused (${[...new Set(fit.refused.map((r) => r.code))].join(', ')})` : '';
    found = [`smallest square mesh: ${fit.side}x${fit.side} of ${smallest[1] ?? 'mesh'} cores (searched from ${fit.lowerBound}, the outputs' bytes${refused})`];
  } else result = compile(bytes, { ...options, target });
  const file = encodeProgram(result.program);
  try {
    writeFileSync(flags.output, file);
  } catch (e) {
    const code = (e as { code?: string }).code;
    process.stderr.write(`error: cannot write the program to '${flags.output}'${code ? ` (${code})` : ''}\n`);
    throw new CliExit(1);
  }
  const p = result.program;
  const s = result.state;
  const total = p.predicted?.totalCycles ?? 0;
  const kernels = new Map<string, number>();
  for (const op of result.mesh.ops) if (op.kernel !== 'call' && op.kernel !== 'redistribute') kernels.set(op.kernel, (kernels.get(op.kernel) ?? 0) + 1);
  const lines = [
    ...found,
    ...result.notes,
    ...(kernels.size ? [`kernels: ${[...kernels].map(([k, n]) => `${k} ×${n}`).join(', ')}`] : []),
    `memory map ${s.sram?.bytes ?? 0} B per core of ${target.sram.bytesPerCore} B; ${s.routes?.length
      ? `${s.routes.length} transfers on ${new Set(s.routes.map((r) => r.colour)).size} colours`
      : `${p.routes.length} route rules on ${new Set(p.routes.map((r) => r.colour)).size} colours`}; ${s.schedule?.steps.length ?? 0} steps`,
    `predicted ${total} cycles (${(cyclesToSeconds(target, total) * 1e6).toFixed(3)} µs at ${target.clockHz / 1e9} GHz)`,
    `wrote ${flags.output} (${file.length} bytes)`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
}
