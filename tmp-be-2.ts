import { findCases, summarize } from './cli/conformance.js';
import { runEmulatorCase } from './cli/conformance-backend.js';
import { resolveTarget } from './ir/target-presets.js';
const dirs = findCases([process.argv[2]]);
const filter = process.argv[3] ? new RegExp(process.argv[3]) : undefined;
const target = resolveTarget(process.argv[4] ?? 'mesh:4x4');
const results = [];
const t0 = Date.now();
for (const d of dirs) {
  if (filter && !filter.test(d)) continue;
  const r = runEmulatorCase(d, { target });
  results.push(r);
  if (r.status !== 'pass') console.log(r.status, r.name, (r.message ?? '').split('\n')[0].slice(0, 300));
}
console.log(JSON.stringify(summarize(results)), (Date.now() - t0) / 1000, 's');
