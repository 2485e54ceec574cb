/**
 * Target presets and target descriptions from the user: preset names (`wse2`, `wse3`), `mesh:WxH`
 * (WSE-2 per-core figures on a W×H mesh, for tests and examples) and JSON overrides whose keys
 * mirror `Target`. Everything a user can type is validated here and refused with W5001 naming the
 * field and the expected type or range, before any tool sizes anything from it. Pure: the CLI reads
 * files and passes their text in through a callback. The figures themselves and their sources live
 * in target-wse.ts; the field table below (units, kinds, ranges) is the single list that validation,
 * `describeTarget` and docs/targets.md follow.
 */
import { diag, DiagnosticError, type Diagnostic } from './diagnostics.js';
import { coreCount, type Target } from './target.js';
import { WSE2, WSE3 } from './target-wse.js';

/** Preset names `resolveTarget` accepts besides `mesh:WxH`. */
export const TARGET_PRESETS: readonly string[] = ['wse2', 'wse3'];

/** Largest mesh side accepted (mesh:WxH and JSON): 4096 × 4096 = 16.7 M cores, far past any wafer. */
export const MAX_MESH_SIDE = 4096;

const PRESETS: Readonly<Record<string, Target>> = { wse2: WSE2, wse3: WSE3 };

const SPEC_HINT = `use one of ${TARGET_PRESETS.join(', ')}, mesh:WxH (e.g. mesh:8x8), or a .json file; \`wafer targets\` lists them`;

type Kind = 'string' | 'int' | 'real';

/** One leaf field of `Target`: its path, unit, kind and accepted range. */
export interface TargetField {
  path: string;
  unit: string;
  kind: Kind;
  /** Smallest accepted value: 1 for "positive" integers, 0 for "non-negative"; reals use `positive`. */
  min: number;
  /** Reals only: whether 0 is refused. */
  positive: boolean;
  max?: number;
  multipleOf?: number;
}

const int = (path: string, unit: string, min: number, max: number, multipleOf?: number): TargetField =>
  ({ path, unit, kind: 'int', min, positive: min > 0, max, multipleOf });
const real = (path: string, unit: string, positive: boolean): TargetField =>
  ({ path, unit, kind: 'real', min: 0, positive });

/**
 * Every leaf of `Target`, in the order `describeTarget` prints them. Ranges: sizes the emulator
 * allocates from are bounded (mesh sides, SRAM, colours, queue words); cycle counts are integers
 * because the executor's clock is; overheads, relay and ramp latency, queue words and energy may be
 * 0 to idealize a machine; everything else must be positive.
 */
export const TARGET_FIELDS: readonly TargetField[] = [
  { path: 'name', unit: '', kind: 'string', min: 1, positive: true, max: 200 },
  int('width', 'cores', 1, MAX_MESH_SIDE),
  int('height', 'cores', 1, MAX_MESH_SIDE),
  real('clockHz', 'Hz', true),
  // 1 GiB: far past any per-core SRAM (Tenstorrent's fat cores hold ~1.5 MB) and keeps byte offsets
  // safely inside 32-bit program fields.
  int('sram.bytesPerCore', 'bytes', 4, 2 ** 30, 4),
  int('sram.banks', 'banks', 1, 1024),
  int('sram.readWordsPerCycle', 'words/cycle', 1, 1024),
  int('sram.writeWordsPerCycle', 'words/cycle', 1, 1024),
  int('flopsPerCycle.float32', 'FLOP/cycle', 1, 1 << 20),
  int('flopsPerCycle.float16', 'FLOP/cycle', 1, 1 << 20),
  int('flopsPerCycle.float16Acc32', 'FLOP/cycle', 1, 1 << 20),
  // Whole 32-bit words per cycle: the program format moves words.
  int('link.bitsPerCycle', 'bits/cycle', 32, 32 * 64, 32),
  int('link.hopLatency', 'cycles', 1, 1 << 20),
  int('link.rampLatency', 'cycles', 0, 1 << 20),
  int('relayCycles', 'cycles', 0, 1 << 20),
  int('router.colours', 'colours', 1, 256),
  int('router.queueWords', 'words', 0, 1 << 16),
  int('overhead.issue', 'cycles', 0, 1 << 20),
  int('overhead.comm', 'cycles', 0, 1 << 20),
  int('overhead.loop', 'cycles', 0, 1 << 20),
  real('host.bytesPerSecond', 'bytes/s', true),
  real('host.latencySeconds', 's', false),
  real('power.coreActiveWatts', 'W', false),
  real('power.coreIdleWatts', 'W', false),
  real('power.joulesPerWordHop', 'J', false),
];

const FIELD_BY_PATH = new Map(TARGET_FIELDS.map((f) => [f.path, f]));
/** Keys allowed at each level ('' is the top level; `base` is only a top-level key of overrides). */
const KEYS_AT = new Map<string, string[]>();
for (const f of TARGET_FIELDS) {
  const parts = f.path.split('.');
  for (let i = 0; i < parts.length; i++) {
    const prefix = parts.slice(0, i).join('.');
    const keys = KEYS_AT.get(prefix) ?? [];
    if (!keys.includes(parts[i])) keys.push(parts[i]);
    KEYS_AT.set(prefix, keys);
  }
}

function copyTarget(t: Target): Target {
  return structuredClone(t);
}

/** A preset by name, or `mesh:WxH`. Returns a fresh copy the caller may modify. */
export function resolveTarget(spec: string): Target {
  const preset = Object.hasOwn(PRESETS, spec) ? PRESETS[spec] : undefined;
  if (preset) return copyTarget(preset);
  if (spec.startsWith('mesh:')) return meshTarget(spec);
  throw diag('W5001', `unknown target '${clip(spec)}'`, undefined, SPEC_HINT);
}

function meshTarget(spec: string): Target {
  const m = /^mesh:(\d{1,9})x(\d{1,9})$/.exec(spec);
  const w = m ? Number(m[1]) : NaN;
  const h = m ? Number(m[2]) : NaN;
  const ok = (v: number) => Number.isInteger(v) && v >= 1 && v <= MAX_MESH_SIDE;
  if (!ok(w) || !ok(h)) {
    throw diag('W5001', `bad mesh target '${clip(spec)}': expected mesh:WxH with W and H integers from 1 to ${MAX_MESH_SIDE}`,
      undefined, 'e.g. mesh:8x8 or mesh:750x994');
  }
  return { ...copyTarget(WSE2), name: `mesh:${w}x${h}`, width: w, height: h };
}

/**
 * Applies a JSON object of overrides to `base`. Keys mirror `Target` with nested partial objects;
 * a top-level `base` (a preset name or mesh:WxH) selects the target to start from instead of `base`.
 * Every problem is reported at once (W5001, located at `source`, naming the field path). When
 * fields change but no `name` is given, the result is named `<base>+overrides` so reports do not
 * pass it off as the preset.
 */
export function applyTargetOverrides(base: Target, json: unknown, source: string): Target {
  if (!isPlainObject(json)) {
    throw diag('W5001', `a target description must be a JSON object, got ${typeName(json)}`, source,
      'e.g. {"base": "wse2", "width": 100, "sram": {"bytesPerCore": 65536}}');
  }
  let start = base;
  if (Object.hasOwn(json, 'base')) {
    const b = json.base;
    if (typeof b !== 'string') {
      throw diag('W5001', `target field 'base' must be a preset name or mesh:WxH string, got ${typeName(b)}`, source, SPEC_HINT);
    }
    try {
      start = resolveTarget(b);
    } catch (e) {
      if (!(e instanceof DiagnosticError)) throw e;
      throw new DiagnosticError(e.diagnostics.map((d) => ({ ...d, message: `target field 'base': ${d.message}`, location: source })));
    }
  }
  const out = copyTarget(start);
  const errors: Diagnostic[] = [];
  let changed = false;
  const walk = (obj: Record<string, unknown>, prefix: string, dst: Record<string, unknown>) => {
    for (const key of Object.keys(obj)) {
      if (prefix === '' && key === 'base') continue;
      const path = prefix ? `${prefix}.${key}` : key;
      const allowed = KEYS_AT.get(prefix) ?? [];
      if (!allowed.includes(key)) {
        errors.push({ code: 'W5001', message: `unknown target field '${clip(path)}'`, location: source,
          hint: `fields${prefix ? ` of '${prefix}'` : ''}: ${allowed.join(', ')}${prefix ? '' : ', base'}` });
        continue;
      }
      const value = obj[key];
      const field = FIELD_BY_PATH.get(path);
      if (!field) {
        if (!isPlainObject(value)) {
          errors.push({ code: 'W5001', message: `target field '${path}' must be an object, got ${typeName(value)}`, location: source,
            hint: `its fields: ${(KEYS_AT.get(path) ?? []).join(', ')}` });
          continue;
        }
        walk(value, path, dst[key] as Record<string, unknown>);
        continue;
      }
      const problem = checkField(field, value);
      if (problem) {
        errors.push({ code: 'W5001', message: `target field '${path}' must be ${problem}, got ${shown(value)}`, location: source,
          hint: 'docs/targets.md lists every field with its unit and range' });
        continue;
      }
      if (dst[key] !== value) changed = true;
      dst[key] = value;
    }
  };
  walk(json, '', out as unknown as Record<string, unknown>);
  if (errors.length) throw new DiagnosticError(errors);
  if (changed && !Object.hasOwn(json, 'name')) out.name = `${start.name}+overrides`;
  return out;
}

/** What a value of `field` must be, or undefined when `value` is one. */
function checkField(field: TargetField, value: unknown): string | undefined {
  if (field.kind === 'string') {
    const max = field.max ?? Infinity;
    return typeof value === 'string' && value.length >= 1 && value.length <= max ? undefined : `a non-empty string of at most ${max} characters`;
  }
  const expected = expectedOf(field);
  if (typeof value !== 'number' || !Number.isFinite(value)) return expected;
  if (field.kind === 'int' && !Number.isInteger(value)) return expected;
  if (value < field.min || (field.positive && value <= 0)) return expected;
  if (field.max !== undefined && value > field.max) return expected;
  if (field.multipleOf !== undefined && value % field.multipleOf !== 0) return expected;
  return undefined;
}

function expectedOf(field: TargetField): string {
  if (field.kind === 'real') return field.positive ? `a positive finite number (${field.unit})` : `a non-negative finite number (${field.unit})`;
  let s = field.min >= 1 ? 'a positive integer' : 'a non-negative integer';
  if (field.multipleOf !== undefined) s += ` multiple of ${field.multipleOf}`;
  s += ` from ${field.min} to ${field.max}`;
  return field.unit ? `${s} (${field.unit})` : s;
}

/** Largest target file read: a description is a few hundred bytes; anything huge is refused unparsed. */
const MAX_TARGET_FILE_CHARS = 1 << 20;

/**
 * For the CLI: a preset, `mesh:WxH`, or a path ending in `.json` read through `readFile`. A JSON file
 * starts from `wse2` unless it names a `base`; without a `name` it is named after the file.
 */
export function parseTargetSpec(spec: string, readFile: (path: string) => string): Target {
  if (!/\.json$/i.test(spec)) return resolveTarget(spec);
  let text: string;
  try {
    text = readFile(spec);
  } catch (e) {
    if (e instanceof DiagnosticError) throw e;
    const code = (e as { code?: unknown }).code;
    throw diag('W5001', `cannot read target file '${spec}'${typeof code === 'string' ? ` (${code})` : ''}`, spec, 'check the path');
  }
  if (text.length > MAX_TARGET_FILE_CHARS) {
    throw diag('W5001', `target file is ${text.length} characters, more than the ${MAX_TARGET_FILE_CHARS} accepted`, spec,
      'a target description is a small JSON object');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw diag('W5001', `target file is not valid JSON: ${(e as Error).message}`, spec, 'fix the JSON syntax');
  }
  const t = applyTargetOverrides(resolveTarget('wse2'), json, spec);
  if (isPlainObject(json) && !Object.hasOwn(json, 'name')) t.name = fileStem(spec);
  return t;
}

/** The value of a dotted field path of a target (for describe and the docs test). */
export function targetFieldValue(t: Target, path: string): string | number {
  let v: unknown = t;
  for (const k of path.split('.')) v = (v as Record<string, unknown>)[k];
  return v as string | number;
}

/** One line per field: "field  value  unit", aligned, in TARGET_FIELDS order. */
export function describeTarget(t: Target): string[] {
  const rows = TARGET_FIELDS.map((f) => [f.path, String(targetFieldValue(t, f.path)), f.unit]);
  return alignRows(rows);
}

/** Figures derived from a target's fields. */
export interface TargetDerived {
  cores: number;
  totalSramBytes: number;
  /** Peak FLOP/s of the whole mesh per dtype: cores × FLOP/cycle × clock. */
  peakFlops: { float32: number; float16: number; float16Acc32: number };
  /** Link directions between neighbouring routers: 2·((W−1)·H + W·(H−1)). */
  linkDirections: number;
  /** Bits per second over all router-to-router link directions. */
  fabricBitsPerSecond: number;
  /** The vendor's convention (cores × 4 ports × 2 directions × link bits × clock): ≈ 2× the above. */
  portBitsPerSecond: number;
  /** Every core computing: cores × power.coreActiveWatts. */
  activeWatts: number;
}

export function deriveTarget(t: Target): TargetDerived {
  const cores = coreCount(t);
  const linkDirections = 2 * ((t.width - 1) * t.height + t.width * (t.height - 1));
  return {
    cores,
    totalSramBytes: cores * t.sram.bytesPerCore,
    peakFlops: {
      float32: cores * t.flopsPerCycle.float32 * t.clockHz,
      float16: cores * t.flopsPerCycle.float16 * t.clockHz,
      float16Acc32: cores * t.flopsPerCycle.float16Acc32 * t.clockHz,
    },
    linkDirections,
    fabricBitsPerSecond: linkDirections * t.link.bitsPerCycle * t.clockHz,
    portBitsPerSecond: cores * 8 * t.link.bitsPerCycle * t.clockHz,
    activeWatts: cores * t.power.coreActiveWatts,
  };
}

/** Derived figures as aligned "figure  value  formula" lines. */
export function describeDerived(t: Target): string[] {
  const d = deriveTarget(t);
  return alignRows([
    ['cores', String(d.cores), 'width × height'],
    ['total SRAM', `${d.totalSramBytes} bytes (${si(d.totalSramBytes, 'B')}, ${sig(d.totalSramBytes / 2 ** 30)} GiB)`, 'cores × sram.bytesPerCore'],
    ['peak fp16', `${si(d.peakFlops.float16, 'FLOP/s')} (${d.peakFlops.float16} FLOP/s)`, 'cores × flopsPerCycle.float16 × clockHz'],
    ['peak fp16→fp32', `${si(d.peakFlops.float16Acc32, 'FLOP/s')}`, 'cores × flopsPerCycle.float16Acc32 × clockHz'],
    ['peak fp32', `${si(d.peakFlops.float32, 'FLOP/s')}`, 'cores × flopsPerCycle.float32 × clockHz'],
    ['fabric bandwidth', `${si(d.fabricBitsPerSecond, 'b/s')} over ${d.linkDirections} link directions`, 'link directions × link.bitsPerCycle × clockHz'],
    ['fabric (vendor)', `${si(d.portBitsPerSecond, 'b/s')}`, 'cores × 4 ports × 2 directions × link.bitsPerCycle × clockHz'],
    ['power (all active)', `${si(d.activeWatts, 'W')}`, 'cores × power.coreActiveWatts'],
  ], false);
}

/** A number with an SI prefix and up to 6 significant digits, e.g. 6.5604e15 → "6.5604 PFLOP/s". */
export function si(value: number, unit: string): string {
  const prefixes: [number, string][] = [[1e18, 'E'], [1e15, 'P'], [1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']];
  const [scale, p] = prefixes.find(([s]) => Math.abs(value) >= s) ?? [1, ''];
  return `${sig(value / scale)} ${p}${unit}`;
}

/** Up to 6 significant digits without trailing zeros. */
function sig(v: number): string {
  const digits = v.toPrecision(6);
  return digits.includes('.') && !digits.includes('e') ? digits.replace(/\.?0+$/, '') : digits;
}

/** Three aligned columns; the value column right-aligned (numbers) or left-aligned (prose). */
function alignRows(rows: string[][], valuesRight = true): string[] {
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  return rows.map(([a, b, c]) => `${a.padEnd(w0)}  ${valuesRight ? b.padStart(w1) : b.padEnd(w1)}  ${c}`.trimEnd());
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/** A value as the user wrote it, shortened. */
function shown(v: unknown): string {
  const s = v === undefined ? 'undefined' : JSON.stringify(v);
  return clip(s);
}

function clip(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function fileStem(path: string): string {
  const base = path.split(/[\\/]/).pop() ?? path;
  return base.replace(/\.json$/i, '') || path;
}
