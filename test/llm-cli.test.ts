/**
 * `wafer llm` as a user runs it (cli/commands/llm.ts): the plan report and its --json figures, the
 * --emulate check of one layer per phase (measured == predicted == the plan's layer cycles), the
 * --emulate-max guard that refuses a layer too large to emulate before running it, and the flag
 * diagnostics.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { captureCli } from './helpers/cli-capture.js';
import { emulationWork } from '../cli/commands/llm.js';
import { ProgramBuilder } from '../ir/program-builder.js';
import { resolveTarget } from '../ir/target-presets.js';

const EXAMPLES = new URL('../examples/llm/', import.meta.url).pathname;
const tiny = join(EXAMPLES, 'tiny-llama.json');
const io = captureCli();
const { wafer } = io;
const tmp = () => mkdtempSync(join(tmpdir(), 'wafer-llm-cli-'));

describe('wafer llm: the plan', () => {
  it('prints the plan and writes every figure the issue names as finite JSON numbers', async () => {
    const f = join(tmp(), 'plan.json');
    expect(await wafer('llm', tiny, '--target', 'mesh:16x16', '--prompt', '16', '--generate', '8', '--json', f)).toBe(0);
    expect(io.out()).toContain('fullest core');
    expect(io.out()).toMatch(/max generation for prompt 16: shift [\d,]+, concat [\d,]+/);
    const j = JSON.parse(readFileSync(f, 'utf8'));
    for (const k of ['prefillCores', 'decodeCores', 'prefillTokensPerSecond', 'decodeTokensPerSecond', 'endToEndTokensPerSecond', 'maxGenerationShift', 'maxGenerationConcat', 'joulesPerToken']) {
      expect(typeof j[k], k).toBe('number');
      expect(Number.isFinite(j[k]), k).toBe(true);
    }
    expect(j.maxGenerationShift).toBeGreaterThan(j.maxGenerationConcat);
  });

  it('diagnoses bad flags with W1101 and exit 1', async () => {
    expect(await wafer('llm', tiny, '--target', 'mesh:16x16', '--kv', 'ring')).toBe(1);
    expect(io.err()).toMatch(/W1101.*--kv expects shift or concat/);
    expect(await wafer('llm', tiny, '--target', 'mesh:16x16', '--prompt', '16', '--generate', '0')).toBe(1);
    expect(io.err()).toMatch(/--generate 0 is not an integer from 1/);
    // 120 + 10 − 1 positions exceed the tiny config's 128.
    expect(await wafer('llm', tiny, '--target', 'mesh:16x16', '--prompt', '120', '--generate', '10')).toBe(1);
    expect(io.err()).toMatch(/W1101.*exceed the 128/);
    expect(await wafer('llm', tiny, '--target', 'mesh:16x16', '--prompt', '120', '--generate', '9')).toBe(0);
  });

  it('takes the prompt length from --tokens and checks positions on it', async () => {
    const ids = (n: number) => Array.from({ length: n }, (_, i) => i % 256).join(',');
    // 100 ids + 40 − 1 positions exceed 128 whatever --prompt's default says, before anything runs.
    expect(await wafer('llm', tiny, '--generate-text', '--target', 'mesh:16x16', '--tokens', ids(100), '--generate', '40')).toBe(1);
    expect(io.err()).toMatch(/W1101.*the 100 ids of --tokens \+ --generate 40 − 1 positions exceed the 128/);
    expect(await wafer('llm', tiny, '--generate-text', '--target', 'mesh:16x16', '--tokens', ids(3), '--prompt', '4', '--generate', '1')).toBe(1);
    expect(io.err()).toMatch(/W1101.*--prompt 4 disagrees with the 3 ids of --tokens/);
    expect(await wafer('llm', tiny, '--generate-text', '--target', 'mesh:16x16', '--tokens', ids(129), '--generate', '1')).toBe(1);
    expect(io.err()).toMatch(/W1101.*--tokens holds 129 ids, more than the 128 positions/);
    // Without --prompt, three ids are the prompt (the default 2048 would exceed 128).
    expect(await wafer('llm', tiny, '--generate-text', '--target', 'mesh:16x16', '--tokens', '1,2,3', '--generate', '2')).toBe(0);
    expect(io.out()).toContain('prompt: 1 2 3\n');
    expect(io.out()).toMatch(/tokens: \d+ \d+\n/);
  });

  it('refuses the --generate-text flags on a plan instead of ignoring them', async () => {
    for (const [flag, v] of [['--tokens', '1,2'], ['--weights', '/nonexistent'], ['--seed', '3']]) {
      expect(await wafer('llm', tiny, '--target', 'mesh:16x16', '--prompt', '16', flag, v)).toBe(1);
      expect(io.err()).toMatch(new RegExp(`W1101.*${flag} applies only with --generate-text`));
    }
  });
});

describe('wafer llm --emulate', () => {
  it('emulates one decode and one prefill layer of the tiny LLaMA: measured == predicted == the plan', async () => {
    const f = join(tmp(), 'plan.json');
    expect(await wafer('llm', tiny, '--target', 'mesh:16x16', '--prompt', '16', '--generate', '8', '--emulate', '--json', f)).toBe(0);
    expect(io.out()).toMatch(/emulated one decode layer .* — equal/);
    expect(io.out()).toMatch(/emulated one prefill layer .* — equal/);
    const j = JSON.parse(readFileSync(f, 'utf8'));
    expect(j.emulated.map((e: { phase: string }) => e.phase)).toEqual(['decode', 'prefill']);
    for (const e of j.emulated) {
      expect(e.matched).toBe(true);
      expect(e.measured).toBe(e.predicted);
      expect(e.planned).toBe(e.predicted);
    }
    // The prefill's attention redistribution is a modelled delay, and says so.
    expect(j.emulated[1].placeholders).toEqual(['attn.scatter', 'attn.gather']);
    expect(io.out()).toContain('not emitted: attn.scatter, attn.gather');
  }, 120_000);

  it('refuses, before running it, a layer over --emulate-max, and exits 1 saying it is unchecked', async () => {
    expect(await wafer('llm', tiny, '--target', 'mesh:16x16', '--prompt', '16', '--generate', '8', '--decode-cores', '8', '--prefill-cores', '8', '--emulate', '--emulate-max', '1000')).toBe(1);
    expect(io.out()).toMatch(/decode layer \(8×8 cores\) not emulated: about [\d.e+]+ core-instructions .* over the --emulate-max of 1\.00e\+3/);
    expect(io.err()).toContain('not emulated, so its prediction is unchecked');
  });
});

describe('emulationWork', () => {
  it('counts the instructions a core executes, loops unrolled, times the cores', () => {
    const b = new ProgramBuilder('w', resolveTarget('mesh:8x8'));
    const r = b.region('r', { x: 0, y: 0, width: 4, height: 2 });
    r.delay(1);
    r.loop(5, (body) => {
      body.delay(1);
      body.loop(3, (inner) => inner.delay(1));
    });
    // 1 + (1 loop) + 5·(1 + (1 loop) + 3·1) = 27 per core, 8 cores.
    expect(emulationWork(b.build({ validate: false }))).toBe(27 * 8);
  });
});
