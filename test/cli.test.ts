/**
 * The `wafer` CLI, run in-process: exit codes, diagnostics on bad input (never a stack trace), the
 * bundled example, IR printing flags and conformance classification.
 */
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { captureCli } from './helpers/cli-capture.js';

const EXAMPLE = new URL('../examples/tiny-attention/', import.meta.url).pathname;

const io = captureCli();
const { wafer } = io;

describe('wafer eval', () => {
  it('runs the bundled example and matches onnxruntime', async () => {
    expect(await wafer('eval', join(EXAMPLE, 'model.onnx'), '--inputs', join(EXAMPLE, 'test_data_set_0'))).toBe(0);
    expect(io.out()).toMatch(/y {2}float32\[1,8,16\] {2}match/);
  });

  it('exits 1 when an output does not match', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wafer-eval-'));
    writeFileSync(join(dir, 'input_0.pb'), readFileSync(join(EXAMPLE, 'test_data_set_0', 'input_0.pb')));
    // expected output := the input, which the block certainly does not compute
    writeFileSync(join(dir, 'output_0.pb'), readFileSync(join(EXAMPLE, 'test_data_set_0', 'input_0.pb')));
    expect(await wafer('eval', join(EXAMPLE, 'model.onnx'), '--inputs', dir)).toBe(1);
    expect(io.out()).toContain('MISMATCH');
  });
});

describe('wafer import', () => {
  it('prints the IR after every pass with --print-ir-after=all', async () => {
    expect(await wafer('import', join(EXAMPLE, 'model.onnx'), '--print-ir-after=all')).toBe(0);
    for (const p of ['infer-shapes', 'fold-constants', 'simplify', 'sink-expand']) expect(io.out()).toContain(`IR after ${p}`);
    // the head-split shape chain is folded away
    const final = io.out().slice(io.out().lastIndexOf('IR after simplify'));
    expect(final).not.toMatch(/= Shape\(/);
    expect(final).not.toMatch(/= Gather\(/);
  });

  it('writes dumps into --dump-dir', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wafer-dump-'));
    expect(await wafer('import', join(EXAMPLE, 'model.onnx'), '--print-ir-before=all', '--dump-dir', dir)).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['00-before-infer-shapes.ir', '01-before-fold-constants.ir', '02-before-simplify.ir', '03-before-sink-expand.ir']);
  });

  it('reports a missing file with W1001 and exit 1', async () => {
    expect(await wafer('import', '/no/such/model.onnx')).toBe(1);
    expect(io.err()).toContain('W1001');
    expect(io.err()).not.toMatch(/\n\s+at .*\.ts:\d+/); // no stack trace
  });

  it('reports a non-ONNX file with W1001', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wafer-bad-'));
    writeFileSync(join(dir, 'model.onnx'), 'this is not a protobuf, just text\n');
    expect(await wafer('import', join(dir, 'model.onnx'))).toBe(1);
    expect(io.err()).toMatch(/error W1001/);
  });

  it('rejects a malformed --dim with W1012', async () => {
    expect(await wafer('import', join(EXAMPLE, 'model.onnx'), '--dim', 'batch=-3')).toBe(1);
    expect(io.err()).toContain('W1012');
  });

  it('rejects an unknown pass name with W2008', async () => {
    expect(await wafer('import', join(EXAMPLE, 'model.onnx'), '--print-ir-after=nope')).toBe(1);
    expect(io.err()).toContain('W2008');
  });
});

describe('wafer conformance', () => {
  it('classifies cases, writes JSON and ends with the summary line', async () => {
    const suite = new URL('../../shared/corpus/onnx-backend-1.23/node', import.meta.url).pathname;
    const json = join(mkdtempSync(join(tmpdir(), 'wafer-conf-')), 'r.json');
    const code = await wafer('conformance', suite, '--filter', '^test_(relu|matmul_2d|softmax_axis_0)$', '--json', json, '--jobs', '1');
    expect(code).toBe(0);
    expect(io.out().trim().split('\n').pop()).toBe('3 passed, 0 failed, 0 skipped');
    const r = JSON.parse(readFileSync(json, 'utf8'));
    expect(r.cases.map((c: { name: string; status: string }) => `${c.name}:${c.status}`).sort()).toEqual([
      'test_matmul_2d:pass', 'test_relu:pass', 'test_softmax_axis_0:pass',
    ]);
    expect(io.out()).toMatch(/^Relu\s+1\s+0\s+0\s+0\s+0$/m);
  });

  it('fails when a baseline case does not pass', async () => {
    const suite = new URL('../../shared/corpus/onnx-backend-1.23/node', import.meta.url).pathname;
    const baseline = join(mkdtempSync(join(tmpdir(), 'wafer-base-')), 'baseline.txt');
    writeFileSync(baseline, 'test_relu\ntest_no_such_case\n');
    expect(await wafer('conformance', suite, '--filter', '^test_relu$', '--baseline', baseline, '--jobs', '1')).toBe(1);
    expect(io.out()).toContain('baseline regressions (1): test_no_such_case');
  });
});
