/**
 * `wafer run <prog.wafer>`: load a program file, feed it the inputs in --inputs DIR, emulate it
 * (functional unless --timing-only), print the run report (runtime/report.ts), and write the JSON
 * report (--json) and the Perfetto trace (--trace). When DIR also holds output_N.pb, the computed
 * outputs are compared with them. The wall time of the run goes to stderr only, so stdout and the
 * written files are identical from run to run.
 *
 * With --check, the computed outputs are also compared with the reference evaluation of the graph
 * the program embeds (`source`, written by `wafer compile`), and the measured timing with the
 * prediction.
 *
 * Exit status 1: an output differs from DIR's output_N.pb, or --check is given and an output differs
 * from the reference or the measured timing diverges from the program's prediction.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { diag } from '../../ir/diagnostics.js';
import { decodeProgram } from '../../ir/program-codec.js';
import type { IoDecl, Program } from '../../ir/program.js';
import { Tensor } from '../../ir/tensor.js';
import { evaluateGraph } from '../../ir/evaluate.js';
import { parseGraph } from '../../ir/text.js';
import { readTensorProto } from '../../compiler/frontend/onnx/index.js';
import { DEFAULT_TRACE_CORES, emulate } from '../../runtime/emulate.js';
import { formatReport, reportJson } from '../../runtime/report.js';
import { fmtInt } from '../../runtime/report-format.js';
import type { OutputTensor, RunResult } from '../../runtime/result.js';
import { traceJson } from '../../runtime/trace.js';
import { compareTensors } from '../compare.js';
import { CliExit } from '../exit.js';

export interface RunFlags {
  inputs?: string;
  timingOnly?: boolean;
  json?: string;
  trace?: string;
  traceCores?: string;
  check?: boolean;
}

function readProgramFile(file: string): Program {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw diag('W5002', `cannot read program file '${file}'${code ? ` (${code})` : ''}`, file, 'check the path; programs are written by `wafer compile`');
  }
  return decodeProgram(bytes, file);
}

/** The tensor files of DIR with a prefix (input/output), in N order: input_0.pb, input_1.pb, ... */
function numbered(files: string[], prefix: string): string[] {
  const re = new RegExp(`^${prefix}_(\\d+)\\.pb$`);
  return files
    .filter((f) => re.test(f))
    .sort((a, b) => Number(re.exec(a)![1]) - Number(re.exec(b)![1]) || (a < b ? -1 : a > b ? 1 : 0));
}

function listDir(dir: string): string[] {
  let ok = false;
  try {
    ok = statSync(dir).isDirectory();
  } catch {
    ok = false;
  }
  if (!ok) throw diag('W6005', `inputs folder '${dir}' does not exist or is not a folder`, dir, 'give a folder holding input_N.pb TensorProto files');
  return readdirSync(dir).sort();
}

function readTensorFile(dir: string, file: string): { file: string; name: string; tensor: Tensor } {
  const path = join(dir, file);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw diag('W6005', `cannot read '${path}'${code ? ` (${code})` : ''}`, path, 'check the file permissions');
  }
  return { file, ...readTensorProto(bytes) };
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

const shapeText = (s: readonly number[]) => `[${s.join(',')}]`;

/**
 * Matches tensor files to declarations: by the names stored in the files when every one names a
 * declaration (each at most once), else by position.
 */
function match<T extends { name: string }>(decls: readonly IoDecl[], files: T[]): { decl: IoDecl; file?: T; index: number }[] {
  const names = new Set(decls.map((d) => d.name));
  const fileNames = files.map((f) => f.name);
  const byName = files.length > 0 && fileNames.every((n) => names.has(n)) && new Set(fileNames).size === fileNames.length;
  return decls.map((decl, index) => ({ decl, index, file: byName ? files.find((f) => f.name === decl.name) : files[index] }));
}

/**
 * Reads the program inputs from DIR: `input_N.pb` files when there are any, else every `*.pb` that
 * is not an `output_N.pb` (by file name). Each must hold a TensorProto of the declared shape.
 */
export function loadRunInputs(dir: string, program: Program): Map<string, Float32Array> {
  const all = listDir(dir);
  let files = numbered(all, 'input');
  if (!files.length) files = all.filter((f) => f.endsWith('.pb') && !/^output_\d+\.pb$/.test(f));
  const tensors = files.map((f) => readTensorFile(dir, f));
  if (tensors.length > program.inputs.length) {
    throw diag('W6005', `${tensors.length} input files (${tensors.map((t) => t.file).join(', ')}) for ${program.inputs.length} program inputs`, dir,
      `the program's inputs are ${program.inputs.map((d) => `'${d.name}' ${d.type}${shapeText(d.shape)}`).join(', ') || 'none'}`);
  }
  const out = new Map<string, Float32Array>();
  for (const { decl, file, index } of match(program.inputs, tensors)) {
    const want = shapeText(decl.shape);
    if (!file) {
      throw diag('W6005', `no data for program input #${index} '${decl.name}' (${decl.type}${want})`, dir,
        `add ${join(dir, `input_${index}.pb`)} holding a TensorProto named '${decl.name}'`);
    }
    if (!sameShape(file.tensor.shape, decl.shape)) {
      throw diag('W6005', `input '${decl.name}' from '${file.file}' has shape ${shapeText(file.tensor.shape)}, the program expects ${want}`,
        join(dir, file.file), 'the tensor must have exactly the shape the program was compiled for');
    }
    out.set(decl.name, Float32Array.from(file.tensor.data as ArrayLike<number>));
  }
  return out;
}

/** Compares the computed outputs with DIR's output_N.pb; returns printed lines and the failures. */
function compareOutputs(dir: string, program: Program, outputs: readonly OutputTensor[] | undefined): { lines: string[]; failures: number } {
  const files = numbered(listDir(dir), 'output');
  if (!files.length) return { lines: [], failures: 0 };
  if (!outputs) return { lines: ['outputs: not computed in a timing-only run (expected outputs not compared)'], failures: 0 };
  const expected = files.map((f) => readTensorFile(dir, f));
  const lines = ['outputs'];
  let failures = 0;
  for (const { decl, file } of match(program.outputs, expected)) {
    const got = outputs.find((o) => o.name === decl.name);
    const head = `  ${decl.name}  ${decl.type}${shapeText(decl.shape)}`;
    if (!got) {
      lines.push(`${head}  not produced`);
      failures++;
      continue;
    }
    if (!file) {
      lines.push(`${head}  computed (no expected file)`);
      continue;
    }
    const exp = new Tensor('float32', file.tensor.shape, Float32Array.from(file.tensor.data as ArrayLike<number>));
    const c = compareTensors(new Tensor('float32', got.shape, got.data), exp);
    if (!c.ok) failures++;
    lines.push(`${head}  ${c.ok ? 'match' : `MISMATCH: ${c.reason}`} (max abs err ${c.maxAbsError.toExponential(2)}, vs ${file.file})`);
  }
  return { lines, failures };
}

function parseTraceCores(v: string | undefined): number {
  if (v === undefined) return DEFAULT_TRACE_CORES;
  const n = /^\d+$/.test(v.trim()) ? Number(v.trim()) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) {
    process.stderr.write(`error: --trace-cores expects a positive integer, got '${v}'\n`);
    throw new CliExit(1);
  }
  return n;
}

function writeOut(path: string, text: string, what: string): void {
  try {
    writeFileSync(path, text);
  } catch (e) {
    const code = (e as { code?: string }).code;
    process.stderr.write(`error: cannot write the ${what} to '${path}'${code ? ` (${code})` : ''}\n`);
    throw new CliExit(1);
  }
}

/**
 * With --check and a program that embeds its source graph: evaluates that graph with the reference
 * semantics on the same inputs and compares every computed output with it (float tolerance rtol 1e-3,
 * atol 1e-4; integers exactly). Returns printed lines and the failures.
 */
function compareWithSource(program: Program, inputs: Map<string, Float32Array>, outputs: readonly OutputTensor[] | undefined): { lines: string[]; failures: number } {
  const source = (program as Program & { source?: string }).source;
  if (!source) return { lines: ['reference: the program embeds no source graph (not compared)'], failures: 0 };
  if (!outputs) return { lines: ['reference: not compared in a timing-only run'], failures: 0 };
  const graph = parseGraph(source);
  const given = new Map<string, Tensor>();
  for (const name of graph.inputs) {
    const t = graph.types.get(name);
    const data = inputs.get(name);
    if (!data) continue; // an input with a default value keeps it
    given.set(name, Tensor.from(t?.dtype ?? 'float32', (t?.shape ?? [data.length]) as number[], data));
  }
  const ref = evaluateGraph(graph, given);
  const lines = ['reference (the embedded source graph, evaluated by wafer\'s reference semantics)'];
  let failures = 0;
  for (const o of outputs) {
    const exp = ref.get(o.name);
    if (!exp) continue;
    const c = compareTensors(Tensor.from(exp.dtype, o.shape, o.data), exp, { rtol: 1e-3, atol: 1e-4 });
    if (!c.ok) failures++;
    lines.push(`  ${o.name}  ${c.ok ? 'match' : `MISMATCH: ${c.reason}`} (max abs err ${c.maxAbsError.toExponential(2)})`);
  }
  return { lines, failures };
}

/** True when the prediction check found a divergence (an instruction start or the total). */
export function diverged(r: RunResult): boolean {
  const p = r.prediction;
  return !p.matched || !!p.firstDivergence || (p.predictedTotal !== undefined && p.predictedTotal !== r.totalCycles);
}

export async function runCommand(file: string, flags: RunFlags): Promise<void> {
  const traceCores = parseTraceCores(flags.traceCores);
  const program = readProgramFile(file);
  const inputs = flags.inputs ? loadRunInputs(flags.inputs, program) : new Map<string, Float32Array>();
  const t0 = performance.now();
  const r = emulate(program, {
    mode: flags.timingOnly ? 'timing' : 'functional',
    inputs,
    trace: flags.trace ? { cores: traceCores } : undefined,
  });
  const ms = performance.now() - t0;
  let text = formatReport(r);
  const cmp = flags.inputs ? compareOutputs(flags.inputs, program, r.outputs) : { lines: [], failures: 0 };
  if (cmp.lines.length) text += '\n' + cmp.lines.join('\n') + '\n';
  const ref = flags.check && flags.inputs ? compareWithSource(program, inputs, r.outputs) : { lines: [], failures: 0 };
  if (ref.lines.length) text += '\n' + ref.lines.join('\n') + '\n';
  if (flags.check) {
    const p = r.prediction;
    text += `\nprediction: ${diverged(r) ? 'DIVERGED' : 'measured == predicted'} (${p.checked} instruction starts checked, total predicted ${p.predictedTotal ?? 'none'}, measured ${r.totalCycles})\n`;
  }
  process.stdout.write(text);
  if (flags.json) writeOut(flags.json, JSON.stringify(reportJson(r), null, 2) + '\n', 'JSON report');
  if (flags.trace) writeOut(flags.trace, traceJson(r, program.name), 'trace');
  const rate = ms > 0 ? ` (${fmtInt(r.events / (ms / 1000))} events/s)` : '';
  process.stderr.write(`wall time ${(ms / 1000).toFixed(3)} s${rate}\n`);
  if (cmp.failures || ref.failures) throw new CliExit(1);
  if (flags.check && diverged(r)) throw new CliExit(1);
}
