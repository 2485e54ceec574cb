/**
 * The command functions of `wafer compile`, `wafer run --check` on a compiled program, and
 * `wafer conformance --backend emulator` (called directly: cli/main.ts registers them).
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { compileCommand } from '../cli/commands/compile.js';
import { conformanceCommand } from '../cli/commands/conformance.js';
import { runCommand } from '../cli/commands/run.js';
import { CliExit } from '../cli/exit.js';
import { decodeProgram } from '../ir/program-codec.js';

const ROOT = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');
const EXAMPLE = join(ROOT, 'examples/tiny-attention');

function capture(): { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => { out += String(s); return true; });
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => { err += String(s); return true; });
  return { out: () => out, err: () => err };
}

afterEach(() => vi.restoreAllMocks());

const flags = (output: string, extra: Record<string, unknown> = {}) => ({ dim: [], verify: true, target: 'mesh:4x4', output, ...extra });

describe('wafer compile', () => {
  it('writes a program and says what it decided; twice gives identical bytes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wafer-compile-'));
    const io = capture();
    compileCommand(join(EXAMPLE, 'model.onnx'), flags(join(dir, 'a.wafer')));
    compileCommand(join(EXAMPLE, 'model.onnx'), flags(join(dir, 'b.wafer')));
    const a = readFileSync(join(dir, 'a.wafer'));
    expect(a.equals(readFileSync(join(dir, 'b.wafer')))).toBe(true);
    const p = decodeProgram(a);
    expect(io.out()).toContain("placed on 1 core: region (0,0 1x1) of mesh:4x4's 4x4");
    expect(io.out()).toContain(`predicted ${p.predicted!.totalCycles} cycles`);
    expect(io.out()).toContain(`(${a.length} bytes)`);
  });

  it('--target smallest[:spec] compiles for the smallest square mesh of those cores and says which', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wafer-compile-'));
    const io = capture();
    compileCommand(join(EXAMPLE, 'model.onnx'), flags(join(dir, 's.wafer'), { target: 'smallest:wse2' }));
    expect(io.out()).toMatch(/^smallest square mesh: 1x1 of wse2 cores \(searched from 1, the outputs' bytes\)\n/);
    expect(decodeProgram(readFileSync(join(dir, 's.wafer'))).target).toMatchObject({ width: 1, height: 1 });
  });

  it('--layout, --no-fuse reach the compiler; a bad --layout, --gemm or --allreduce exits 1 naming the choices', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wafer-compile-'));
    capture();
    // Forcing the distributed mode on the example compiles it that way.
    compileCommand(join(EXAMPLE, 'model.onnx'), flags(join(dir, 'd.wafer'), { layout: 'distributed' }));
    expect(decodeProgram(readFileSync(join(dir, 'd.wafer'))).predicted!.totalCycles).toBeGreaterThan(0);
    compileCommand(join(EXAMPLE, 'model.onnx'), flags(join(dir, 'f.wafer'), { fuse: false }));
    expect(decodeProgram(readFileSync(join(dir, 'f.wafer'))).source).not.toContain('FusedElementwise');
    compileCommand(join(EXAMPLE, 'model.onnx'), flags(join(dir, 'g.wafer'), { gemm: 'cannon', allreduce: 'chain' }));
    for (const [flag, bad] of [['layout', 'tiled'], ['gemm', 'fast'], ['allreduce', 'tree']] as const) {
      const e = capture();
      expect(() => compileCommand(join(EXAMPLE, 'model.onnx'), flags(join(dir, 'x.wafer'), { [flag]: bad }))).toThrow(CliExit);
      expect(e.err()).toMatch(new RegExp(`--${flag} expects .*; got '${bad}'`));
    }
  });

  it('dumps the IR after every pass into --dump-dir, graph and back end', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wafer-compile-'));
    capture();
    compileCommand(join(EXAMPLE, 'model.onnx'), flags(join(dir, 'p.wafer'), { printIrAfter: ['all'], dumpDir: join(dir, 'ir') }));
    const files = readdirSync(join(dir, 'ir')).sort();
    expect(files).toEqual([
      '00-after-infer-shapes.ir', '01-after-fold-constants.ir', '02-after-simplify.ir', '03-after-sink-expand.ir', '04-after-fuse.ir',
      '05-after-select-kernels.ir', '06-after-place.ir', '07-after-insert-redistribution.ir', '08-after-route.ir', '09-after-allocate-sram.ir',
      '10-after-schedule.ir', '11-after-emit.ir',
    ]);
    expect(readFileSync(join(dir, 'ir', '04-after-fuse.ir'), 'utf8')).toMatch(/= wafer:FusedElementwise\(/);
    expect(readFileSync(join(dir, 'ir', '05-after-select-kernels.ir'), 'utf8')).toMatch(/= call MatMul\(%h, %wq\) on \(0,0 1x1\) @q/);
    expect(readFileSync(join(dir, 'ir', '09-after-allocate-sram.ir'), 'utf8')).toMatch(/\/\/ memory map \(\d+ B per core\)/);
    expect(readFileSync(join(dir, 'ir', '10-after-schedule.ir'), 'utf8')).toMatch(/\/\/ total \d+ cycles/);
    expect(readFileSync(join(dir, 'ir', '11-after-emit.ir'), 'utf8')).toMatch(/^program "tiny_attention"/);
  });

  it('refuses an unknown pass name and a bad --dtype', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wafer-compile-'));
    capture();
    expect(() => compileCommand(join(EXAMPLE, 'model.onnx'), flags(join(dir, 'p.wafer'), { printIrAfter: ['plce'] }))).toThrow(/W2008/);
    expect(() => compileCommand(join(EXAMPLE, 'model.onnx'), flags(join(dir, 'p.wafer'), { dtype: 'f8' }))).toThrow(CliExit);
  });
});

describe('wafer run --check on a compiled program', () => {
  it('matches the expected output, the embedded source graph and the prediction', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wafer-run-'));
    const io = capture();
    compileCommand(join(EXAMPLE, 'model.onnx'), flags(join(dir, 'p.wafer'), { target: 'mesh:8x8' }));
    await runCommand(join(dir, 'p.wafer'), { inputs: join(EXAMPLE, 'test_data_set_0'), check: true });
    expect(io.out()).toMatch(/ {2}y {2}f32\[1,8,16\] {2}match/);
    expect(io.out()).toMatch(/reference \(the embedded source graph[^\n]*\n {2}y {2}match/);
    expect(io.out()).toMatch(/prediction: measured == predicted \(22 instruction starts checked/);
  });
});

describe('wafer conformance --backend emulator', () => {
  it('compiles and emulates each case', async () => {
    const io = capture();
    await conformanceCommand([EXAMPLE], { backend: 'emulator', target: 'mesh:2x2', table: false, jobs: '1' });
    expect(io.out()).toContain('1 passed, 0 failed, 0 skipped');
  });

  it('keeps the reference backend the default and refuses unknown backends', async () => {
    const io = capture();
    await conformanceCommand([EXAMPLE], { table: false, jobs: '1' });
    expect(io.out()).toContain('1 passed, 0 failed, 0 skipped');
    await expect(conformanceCommand([EXAMPLE], { backend: 'gpu', table: false })).rejects.toThrow(/--backend 'gpu'/);
  });
});
