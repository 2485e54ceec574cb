import { ktreePlan, defaultGroups } from './compiler/kernels/allreduce-plan.js';
for (const [L,k] of [[6,3],[6,4],[9,4]]) console.log(L, k, defaultGroups(L,k), JSON.stringify(ktreePlan(L, k)));
