import { stencilProgram } from './bench/emulator.js';
import { resolveTarget } from './ir/target-presets.js';
import { emulate } from './runtime/emulate.js';
for (const spec of ['mesh:64x64', 'mesh:256x256']) {
  const p = stencilProgram(resolveTarget(spec));
  const t0 = performance.now();
  const r = emulate(p, { mode: 'timing' });
  const s = (performance.now() - t0) / 1000;
  console.log(spec, 'cycles', r.totalCycles, 'events', r.events, 's', s.toFixed(2), 'ev/s', Math.round(r.events / s), 'rssMiB', (process.resourceUsage().maxRSS / 1024).toFixed(0));
}
