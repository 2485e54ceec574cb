/**
 * The loader: validates a Program against its target before anything per core is allocated, and
 * compiles it into a LoadedProgram the executor runs (reusable across runs). Every problem found is
 * reported at once in one DiagnosticError (W5xxx, each naming the region, core, colour or
 * instruction); at most a few diagnostics per code are kept, with a count of the rest.
 *
 * Order: target figures (W5001) and format version (W5003) first, since everything else depends
 * on them; then regions (W5013), kernels (W5012, W5004, W5005), route rules (W5012, W5007, W5008,
 * W5006), tilings (W5011), and, when kernels and rules are sound, streams (W5009, W5010).
 */
import { DiagnosticError, type Diagnostic } from '../ir/diagnostics.js';
import { DEFAULT_OPSET, PROGRAM_FORMAT_VERSION, type Expr, type Program, type Region } from '../ir/program.js';
import { checkTiling, type TileSpec } from './loader-tiling.js';
import { CInstr, compileKernel, OP_ENDLOOP, type CompiledKernel } from './loader-kernel.js';
import { buildMachine, targetProblems, type Machine } from './machine.js';
import { checkRuleShapes, RouteTable } from './routes.js';
import { checkRuleSemantics, checkStreams, type SiteContext } from './routes-check.js';

export interface LoadedRegion {
  index: number;
  region: Region;
  kernel: CompiledKernel;
  x0: number;
  y0: number;
  width: number;
  height: number;
  cores: number;
}

export interface LoadedData {
  name: string;
  type: 'f32' | 'f16' | 'i32';
  tiles: TileSpec;
  /** Constants: their little-endian bytes, when the program carries them. */
  data?: Uint8Array;
}

export interface LoadedProgram {
  program: Program;
  machine: Machine;
  regions: LoadedRegion[];
  /** Region index of every core of the mesh, −1 for cores no region uses. */
  coreRegion: Int32Array;
  usedCores: number;
  routes: RouteTable;
  constants: LoadedData[];
  inputs: LoadedData[];
  outputs: LoadedData[];
  /** Every instruction, by dense index (CInstr.ix). */
  instrs: CInstr[];
}

/** Diagnostics kept per code; the rest are counted in one closing line. */
const PER_CODE = 8;

class Collector {
  readonly list: Diagnostic[] = [];
  private readonly counts = new Map<string, number>();
  push = (d: Diagnostic): void => {
    const n = (this.counts.get(d.code) ?? 0) + 1;
    this.counts.set(d.code, n);
    if (n <= PER_CODE) this.list.push(d);
  };
  addAll(ds: Diagnostic[]): void {
    for (const d of ds) this.push(d);
  }
  finish(): Diagnostic[] {
    const out = [...this.list];
    for (const [code, n] of [...this.counts].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      if (n > PER_CODE) out.push({ code, message: `${n - PER_CODE} more ${code} problems like the above` });
    }
    return out;
  }
}

/** W5013 for every region off the mesh or overlapping an earlier one; returns the indices of the sound ones. */
function checkRegions(p: Program, m: Machine, out: Collector): Set<number> {
  const ok = new Set<number>();
  const good: Region[] = [];
  p.regions.forEach((r, i) => {
    const rect = r?.rect;
    const name = typeof r?.name === 'string' ? r.name : `#${i}`;
    if (!rect || ![rect.x, rect.y, rect.width, rect.height].every(Number.isInteger) || rect.width < 1 || rect.height < 1) {
      out.push({ code: 'W5013', message: `region ${name} has no valid rectangle (${JSON.stringify(rect)})`, location: `region ${name}`, hint: 'Fix the region rectangles.' });
      return;
    }
    if (rect.x < 0 || rect.y < 0 || rect.x + rect.width > m.width || rect.y + rect.height > m.height) {
      out.push({
        code: 'W5013',
        message: `region ${name} covers cores (${rect.x},${rect.y})..(${rect.x + rect.width - 1},${rect.y + rect.height - 1}), outside the ${m.width}×${m.height} mesh of target ${m.target.name}`,
        location: `region ${name}`,
        hint: 'Fix the region rectangles, or use a larger target.',
      });
      return;
    }
    let sound = true;
    for (const o of good) {
      const x0 = Math.max(o.rect.x, rect.x), y0 = Math.max(o.rect.y, rect.y);
      if (x0 < Math.min(o.rect.x + o.rect.width, rect.x + rect.width) && y0 < Math.min(o.rect.y + o.rect.height, rect.y + rect.height)) {
        out.push({ code: 'W5013', message: `regions ${o.name} and ${name} overlap, e.g. at core (${x0},${y0})`, location: `core (${x0},${y0})`, hint: 'Fix the region rectangles.' });
        sound = false;
      }
    }
    good.push(r);
    if (sound) ok.add(i);
  });
  return ok;
}

/** Validates `program` against its target and compiles it; throws DiagnosticError listing every problem. */
export function loadProgram(program: Program): LoadedProgram {
  const out = new Collector();
  if (!program || typeof program !== 'object' || !program.target || !Array.isArray(program.regions)) {
    throw new DiagnosticError({ code: 'W5002', message: 'not a wafer program (no target or regions)' });
  }
  if (typeof program.version === 'number' && program.version > PROGRAM_FORMAT_VERSION) {
    throw new DiagnosticError({ code: 'W5003', message: `program format version ${program.version} is newer than this wafer understands (${PROGRAM_FORMAT_VERSION})`, hint: 'Upgrade wafer, or recompile with this version.' });
  }
  const tp = targetProblems(program.target);
  if (tp.length) throw new DiagnosticError(tp.map((message) => ({ code: 'W5001', message, location: `target ${String(program.target.name)}` })));
  const lists = (['routes', 'constants', 'inputs', 'outputs'] as const).filter((k) => !Array.isArray(program[k]));
  if (lists.length) throw new DiagnosticError({ code: 'W5012', message: `program ${lists.join(', ')} ${lists.length === 1 ? 'is' : 'are'} not a list`, location: `program ${String(program.name)}` });
  const m = buildMachine(program.target);
  const routes = program.routes;
  const soundRegions = checkRegions(program, m, out);
  // Programs built in memory by older code may lack the field; files always have it (the decoder defaults it).
  const opset = program.opset ?? DEFAULT_OPSET;
  if (!Number.isInteger(opset) || opset < 1) out.push({ code: 'W5012', message: `program opset ${String(opset)} is not a positive integer`, location: `program ${String(program.name)}` });

  const predictions = new Map<number, Expr>();
  for (const p of program.predicted?.instructions ?? []) predictions.set(p.instr, p.start);
  const seen = new Set<number>();
  const loaded: LoadedRegion[] = [];
  const kernels: (CompiledKernel | undefined)[] = [];
  let kernelsOk = true;
  program.regions.forEach((region, index) => {
    const ds: Diagnostic[] = [];
    const kernel = region?.kernel ? compileKernel(region, m.target, predictions, seen, ds, opset) : undefined;
    if (!region?.kernel) ds.push({ code: 'W5012', message: `region ${String(region?.name)} has no kernel`, location: `region ${String(region?.name)}` });
    out.addAll(ds);
    kernels[index] = kernel;
    if (!kernel) { kernelsOk = false; return; }
    if (!soundRegions.has(index)) return; // refused already (W5013)
    const r = region.rect;
    loaded.push({ index, region, kernel, x0: r.x, y0: r.y, width: r.width, height: r.height, cores: r.width * r.height });
  });
  for (const id of predictions.keys()) {
    if (kernelsOk && !seen.has(id)) out.push({ code: 'W5012', message: `a prediction names instruction #${id}, which does not exist`, location: 'predicted timing' });
  }

  const ruleDiags: Diagnostic[] = [];
  const rulesOk = checkRuleShapes(routes, m, ruleDiags);
  out.addAll(ruleDiags);
  let table: RouteTable | undefined;
  if (rulesOk) {
    table = new RouteTable(m, routes);
    checkRuleSemantics(table, m, out.push);
  }

  const tilings = (kind: 'constant' | 'input' | 'output', list: { name: string; type: 'f32' | 'f16' | 'i32' }[] | undefined): LoadedData[] => {
    const res: LoadedData[] = [];
    for (const d of Array.isArray(list) ? list : []) {
      const ds: Diagnostic[] = [];
      // A tiling on a region already refused (W5013) is not checked again; any other is.
      const ri = (d as { tiling?: { region?: unknown } })?.tiling?.region;
      const skip = typeof ri === 'number' && Number.isInteger(ri) && ri >= 0 && ri < program.regions.length && !soundRegions.has(ri);
      const tiles = skip ? undefined : checkTiling(program, kind, d as never, ds, (region) => kernels[region]?.presence ?? null);
      out.addAll(ds);
      const data = (d as { data?: unknown } | undefined)?.data;
      if (tiles) res.push({ name: d.name, type: d.type, tiles, ...(data instanceof Uint8Array ? { data } : {}) });
    }
    return res;
  };
  const constants = tilings('constant', program.constants);
  const inputs = tilings('input', program.inputs);
  const outputs = tilings('output', program.outputs);

  if (table) {
    // Streams of the regions that are sound (on the mesh, not overlapping, kernel compiled).
    const sites: SiteContext[] = loaded.map((l) => ({ region: l.region, regionIndex: l.index, kernel: l.kernel }));
    checkStreams(table, m, sites, out.push);
  }
  const diags = out.finish();
  if (diags.length > 0 || !table) throw new DiagnosticError(diags.length ? diags : [{ code: 'W5012', message: 'route rules are malformed' }]);

  // Dense instruction indices (ids are the program's and need not be dense); an ENDLOOP shares its loop's.
  const instrs: CInstr[] = [];
  for (const l of loaded) {
    for (const c of l.kernel.code) {
      if (c.op === OP_ENDLOOP) c.ix = l.kernel.code[c.loopAt].ix;
      else { c.ix = instrs.length; instrs.push(c); }
    }
  }
  const coreRegion = new Int32Array(m.cores).fill(-1);
  let usedCores = 0;
  for (const l of loaded) {
    for (let y = 0; y < l.height; y++) coreRegion.fill(l.index, (l.y0 + y) * m.width + l.x0, (l.y0 + y) * m.width + l.x0 + l.width);
    usedCores += l.cores;
  }
  return { program, machine: m, regions: loaded, coreRegion, usedCores, routes: table, constants, inputs, outputs, instrs };
}
