/**
 * The acceptance check at full size: one LLaMA3-8B decode layer on 420² WSE-2 cores at a 4,096-token
 * context, emitted from the planner's steps and run timing-only in the emulator (about 25 s here).
 * Measured == the program's prediction == Σ of the planner's step cycles == the layer cycles the
 * plan charges at that context, with no step mismatched. Cycle counts are exact, so they are asserted.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { resolveTarget } from '../ir/target-presets.js';
import { parseLlmConfig } from '../compiler/frontend/llm/config.js';
import { decodeLayerProgram } from '../compiler/llm/layer-program.js';
import { decodeLayerSteps } from '../compiler/llm/plan.js';
import { emulate } from '../runtime/emulate.js';

const llama3 = parseLlmConfig(readFileSync(new URL('../examples/llm/llama3-8b.json', import.meta.url), 'utf8'), 'llama3-8b');

describe('LLaMA3-8B decode layer at wafer scale', () => {
  it('420² on wse2, context 4096: measured == predicted == the planner\'s layer cycles (12,292)', () => {
    const wse2 = resolveTarget('wse2');
    const lp = decodeLayerProgram(llama3, wse2, 420, 4096, 'f16', { kv: 'shift', prompt: 4096 });
    expect(lp.mismatches).toEqual([]);
    expect(lp.placeholders).toEqual([]);
    const planned = decodeLayerSteps(llama3, wse2, 420, 4096, 'f16', { kv: 'shift', prompt: 4096 }).reduce((a, s) => a + s.cycles, 0);
    expect(lp.predictedCycles).toBe(planned);
    expect(planned).toBe(12292);
    const run = emulate(lp.program, { mode: 'timing' });
    expect(run.prediction.matched).toBe(true);
    expect(run.totalCycles).toBe(12292);
  }, 400_000);
});
