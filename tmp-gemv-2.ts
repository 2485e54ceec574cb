import { resolveTarget } from './ir/target-presets.js';
import { allreduceCost } from './compiler/kernels/allreduce.js';
const t = resolveTarget('mesh:64x64');
for (const alg of ['chain','ktree'] as const) for (const L of [1,2,3,5,8,13]) for (const n of [1, 7, 16, 17, 40]) for (const type of ['f32','f16'] as const)
try { allreduceCost(t, L, { algorithm: alg, axis: 'x', fn: 'sum', n, type }); } catch (e) { console.log(alg, L, n, type, String(e)); }
