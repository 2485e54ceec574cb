/**
 * Target machines: the presets carry HARDWARE.md's figures, mesh:WxH and JSON overrides build the
 * targets users describe, every malformed description is refused with W5001 naming the field, and
 * `wafer targets` prints the figures and the derived peak throughput.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DiagnosticError, type Diagnostic } from '../ir/diagnostics.js';
import { coreCount, type Target } from '../ir/target.js';
import {
  applyTargetOverrides, deriveTarget, describeTarget, parseTargetSpec, resolveTarget, si, TARGET_FIELDS, TARGET_PRESETS,
} from '../ir/target-presets.js';
import { targetsCommand } from '../cli/commands/targets.js';

/** The diagnostics `fn` throws (fails the test when it throws anything else or nothing). */
function diagnosticsOf(fn: () => unknown): Diagnostic[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof DiagnosticError) return e.diagnostics;
    throw e;
  }
  throw new Error('expected a DiagnosticError');
}

/** Dotted paths of every leaf of an object. */
function leaves(o: object, prefix = ''): string[] {
  return Object.entries(o).flatMap(([k, v]) =>
    typeof v === 'object' && v !== null ? leaves(v as object, `${prefix}${k}.`) : [`${prefix}${k}`]);
}

const noFile = (path: string): string => {
  throw new Error(`unexpected read of ${path}`);
};

describe('presets', () => {
  it('lists wse2 and wse3', () => {
    expect([...TARGET_PRESETS]).toEqual(['wse2', 'wse3']);
  });

  it('wse2 carries the HARDWARE.md figures', () => {
    const t = resolveTarget('wse2');
    expect(t.name).toBe('wse2');
    expect([t.width, t.height]).toEqual([750, 994]);
    expect(t.clockHz).toBe(1.1e9);
    expect(t.sram).toEqual({ bytesPerCore: 49152, banks: 8, readWordsPerCycle: 2, writeWordsPerCycle: 1 });
    expect(t.flopsPerCycle).toEqual({ float32: 2, float16: 8, float16Acc32: 4 });
    expect(t.link.bitsPerCycle).toBe(32);
    expect(t.link.hopLatency).toBe(1);
    expect(t.router.colours).toBe(18); // 24 routable − 6 reserved by the runtime
    expect(t.power.coreActiveWatts).toBe(0.03);
  });

  it('wse3 carries the HARDWARE.md figures', () => {
    const t = resolveTarget('wse3');
    expect([t.width, t.height]).toEqual([755, 1170]);
    expect(t.flopsPerCycle.float16).toBe(16);
    expect(t.sram.bytesPerCore).toBe(48 * 1024);
    expect(t.link.bitsPerCycle).toBe(32);
    expect(t.clockHz).toBe(0.875e9);
    expect(t.power.coreActiveWatts).toBe(0.03);
  });

  it('fills every field with a finite value (no preset leaves one out)', () => {
    const fields = TARGET_FIELDS.map((f) => f.path);
    for (const name of TARGET_PRESETS) {
      const t = resolveTarget(name);
      expect(leaves(t).sort()).toEqual([...fields].sort());
      for (const path of fields.filter((p) => p !== 'name')) {
        const v = path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], t);
        expect(typeof v === 'number' && Number.isFinite(v), `${name}.${path}`).toBe(true);
      }
    }
  });

  it('returns copies: changing one does not change the preset', () => {
    const a = resolveTarget('wse2');
    a.width = 3;
    a.sram.bytesPerCore = 4;
    expect(resolveTarget('wse2').width).toBe(750);
    expect(resolveTarget('wse2').sram.bytesPerCore).toBe(49152);
    expect(resolveTarget('mesh:4x4').sram.bytesPerCore).toBe(49152);
  });

  it('refuses an unknown preset with the list of presets', () => {
    const [d] = diagnosticsOf(() => resolveTarget('wse9'));
    expect(d.code).toBe('W5001');
    expect(d.message).toContain("'wse9'");
    expect(d.hint).toContain('wse2, wse3');
    expect(d.hint).toContain('mesh:WxH');
  });
});

describe('mesh:WxH', () => {
  it('puts WSE-2 per-core figures on a W×H mesh', () => {
    const t = resolveTarget('mesh:8x4');
    expect(t.name).toBe('mesh:8x4');
    expect([t.width, t.height, coreCount(t)]).toEqual([8, 4, 32]);
    expect({ ...t, name: 'wse2', width: 750, height: 994 }).toEqual(resolveTarget('wse2'));
  });

  it('accepts the full WSE-2 rectangle and the 4096 limit', () => {
    expect(coreCount(resolveTarget('mesh:750x994'))).toBe(745500);
    expect(resolveTarget('mesh:4096x1').width).toBe(4096);
    expect(resolveTarget('mesh:08x8').name).toBe('mesh:8x8');
  });

  it.each(['mesh:0x8', 'mesh:8x0', 'mesh:8x', 'mesh:x8', 'mesh:8x8x8', 'mesh:4097x1', 'mesh:1x4097', 'mesh:-1x2', 'mesh:1.5x2',
    'mesh:99999999999x1', 'mesh:8X8'])('refuses %s', (spec) => {
    const [d] = diagnosticsOf(() => resolveTarget(spec));
    expect(d.code).toBe('W5001');
    expect(d.message).toContain(spec);
    expect(d.message).toContain('1 to 4096');
  });
});

describe('JSON overrides', () => {
  const wse2 = resolveTarget('wse2');

  it('applies top-level and nested fields and keeps the rest', () => {
    const t = applyTargetOverrides(wse2, { width: 100, sram: { bytesPerCore: 65536 }, overhead: { comm: 0 } }, 'x.json');
    expect(t.width).toBe(100);
    expect(t.height).toBe(994);
    expect(t.sram).toEqual({ bytesPerCore: 65536, banks: 8, readWordsPerCycle: 2, writeWordsPerCycle: 1 });
    expect(t.overhead).toEqual({ issue: 1, comm: 0, loop: 2 });
    expect(t.name).toBe('wse2+overrides');
    expect(wse2.width).toBe(750); // the base is not modified
  });

  it('starts from `base` when given', () => {
    const t = applyTargetOverrides(wse2, { base: 'wse3', width: 100, sram: { bytesPerCore: 65536 } }, 'x.json');
    expect([t.width, t.height, t.flopsPerCycle.float16, t.sram.bytesPerCore]).toEqual([100, 1170, 16, 65536]);
    expect(applyTargetOverrides(wse2, { base: 'mesh:2x3' }, 'x.json')).toEqual(resolveTarget('mesh:2x3'));
    expect(applyTargetOverrides(wse2, { base: 'wse3', name: 'my-chip', clockHz: 2e9 }, 'x.json').name).toBe('my-chip');
  });

  it('keeps the name when nothing changes', () => {
    expect(applyTargetOverrides(wse2, {}, 'x.json')).toEqual(wse2);
    expect(applyTargetOverrides(wse2, { width: 750 }, 'x.json').name).toBe('wse2');
  });

  const cases: [string, unknown, string, string][] = [
    ['unknown field', { widht: 10 }, "unknown target field 'widht'", 'width'],
    ['unknown nested field', { sram: { bytes: 10 } }, "unknown target field 'sram.bytes'", 'bytesPerCore'],
    ['wrong type', { width: '100' }, "'width' must be a positive integer", '"100"'],
    ['wrong type of a group', { sram: 5 }, "'sram' must be an object", 'a number'],
    ['negative', { clockHz: -1 }, "'clockHz' must be a positive finite number", '-1'],
    ['zero where positive', { sram: { readWordsPerCycle: 0 } }, "'sram.readWordsPerCycle' must be a positive integer", 'got 0'],
    ['negative where ≥ 0', { overhead: { loop: -2 } }, "'overhead.loop' must be a non-negative integer", '-2'],
    ['non-integer width', { width: 1.5 }, "'width' must be a positive integer from 1 to 4096", '1.5'],
    ['width past the limit', { width: 5000 }, "'width' must be a positive integer from 1 to 4096", '5000'],
    ['non-finite', { clockHz: Infinity }, "'clockHz' must be a positive finite number", 'null'],
    ['link bits not whole words', { link: { bitsPerCycle: 16 } }, "'link.bitsPerCycle' must be a positive integer multiple of 32", '16'],
    ['SRAM not whole words', { sram: { bytesPerCore: 49153 } }, "'sram.bytesPerCore' must be a positive integer multiple of 4", '49153'],
    ['empty name', { name: '' }, "'name' must be a non-empty string", '""'],
    ['bad base type', { base: 3 }, "'base' must be a preset name", 'a number'],
    ['unknown base', { base: 'wse7' }, "target field 'base': unknown target 'wse7'", 'wse7'],
    ['not an object', [1, 2], 'must be a JSON object', 'an array'],
    ['null', null, 'must be a JSON object', 'null'],
  ];
  it.each(cases)('refuses %s with W5001 naming the field', (_what, json, message, detail) => {
    const ds = diagnosticsOf(() => applyTargetOverrides(wse2, json, 'chip.json'));
    expect(ds).toHaveLength(1);
    expect(ds[0].code).toBe('W5001');
    expect(ds[0].location).toBe('chip.json');
    expect(ds[0].message).toContain(message);
    expect(`${ds[0].message} ${ds[0].hint ?? ''}`).toContain(detail);
  });

  it('reports every bad field at once', () => {
    const ds = diagnosticsOf(() => applyTargetOverrides(wse2, { width: -1, height: 'x', router: { colors: 4 } }, 'c.json'));
    expect(ds.map((d) => d.message)).toEqual([
      "target field 'width' must be a positive integer from 1 to 4096 (cores), got -1",
      "target field 'height' must be a positive integer from 1 to 4096 (cores), got \"x\"",
      "unknown target field 'router.colors'",
    ]);
    expect(ds[2].hint).toBe("fields of 'router': colours, queueWords");
  });

  it('does not let __proto__ through', () => {
    const json: unknown = JSON.parse('{"__proto__": {"width": 1}}');
    const [d] = diagnosticsOf(() => applyTargetOverrides(wse2, json, 'p.json'));
    expect(d.message).toBe("unknown target field '__proto__'");
    expect(({} as Record<string, unknown>).width).toBeUndefined();
  });
});

describe('parseTargetSpec', () => {
  it('resolves presets and meshes without reading files', () => {
    expect(parseTargetSpec('wse3', noFile)).toEqual(resolveTarget('wse3'));
    expect(parseTargetSpec('mesh:16x16', noFile).width).toBe(16);
  });

  it('reads a .json file through the callback, from wse2 unless it names a base, named after the file', () => {
    const files: Record<string, string> = {
      'dir/my-chip.json': '{"width": 100, "sram": {"bytesPerCore": 65536}}',
      'dir/next.json': '{"base": "wse3", "name": "next-gen", "clockHz": 1.5e9}',
    };
    const read = (p: string) => files[p];
    const a = parseTargetSpec('dir/my-chip.json', read);
    expect([a.name, a.width, a.height, a.sram.bytesPerCore, a.flopsPerCycle.float16]).toEqual(['my-chip', 100, 994, 65536, 8]);
    const b = parseTargetSpec('dir/next.json', read);
    expect([b.name, b.width, b.clockHz]).toEqual(['next-gen', 755, 1.5e9]);
  });

  it('refuses bad JSON with the parse message', () => {
    const [d] = diagnosticsOf(() => parseTargetSpec('bad.json', () => '{"width": 10,}'));
    expect(d.code).toBe('W5001');
    expect(d.message).toMatch(/^target file is not valid JSON: .+/);
    expect(d.location).toBe('bad.json');
  });

  it('refuses an unreadable file and a huge one', () => {
    const [d] = diagnosticsOf(() => parseTargetSpec('/no/such.json', () => {
      throw Object.assign(new Error('nope'), { code: 'ENOENT' });
    }));
    expect([d.code, d.message]).toEqual(['W5001', "cannot read target file '/no/such.json' (ENOENT)"]);
    const [big] = diagnosticsOf(() => parseTargetSpec('big.json', () => ' '.repeat((1 << 20) + 1)));
    expect(big.message).toContain('more than the 1048576 accepted');
  });

  it('names the field of a bad file', () => {
    const [d] = diagnosticsOf(() => parseTargetSpec('c.json', () => '{"link": {"hopLatency": 0.5}}'));
    expect(d.message).toBe("target field 'link.hopLatency' must be a positive integer from 1 to 1048576 (cycles), got 0.5");
    expect(d.location).toBe('c.json');
  });
});

describe('describeTarget and derived figures', () => {
  it('prints one "field  value  unit" line per field', () => {
    const lines = describeTarget(resolveTarget('wse2'));
    expect(lines).toHaveLength(TARGET_FIELDS.length);
    const cells = lines.map((l) => l.trim().split(/\s{2,}/));
    expect(cells).toContainEqual(['sram.bytesPerCore', '49152', 'bytes']);
    expect(cells).toContainEqual(['clockHz', '1100000000', 'Hz']);
    expect(cells).toContainEqual(['flopsPerCycle.float16', '8', 'FLOP/cycle']);
    expect(cells).toContainEqual(['router.colours', '18', 'colours']);
    expect(cells).toContainEqual(['power.joulesPerWordHop', '1.5e-12', 'J']);
    expect(cells[0]).toEqual(['name', 'wse2']);
    // aligned: values are right-aligned, so every unit starts in the same column
    const unitColumns = lines.slice(1).map((l, i) => l.length - cells[i + 1][2].length);
    expect(new Set(unitColumns).size).toBe(1);
  });

  it('derives cores, SRAM, peak FLOP/s and fabric bandwidth', () => {
    const d = deriveTarget(resolveTarget('wse2'));
    expect(d.cores).toBe(745500);
    expect(d.totalSramBytes).toBe(745500 * 49152);
    expect(d.peakFlops.float16).toBe(750 * 994 * 8 * 1.1e9);
    expect(d.linkDirections).toBe(2 * (749 * 994 + 750 * 993));
    expect(d.fabricBitsPerSecond).toBe(d.linkDirections * 32 * 1.1e9);
    expect(deriveTarget(resolveTarget('mesh:2x2')).linkDirections).toBe(8);
    expect(si(750 * 994 * 8 * 1.1e9, 'FLOP/s')).toBe('6.5604 PFLOP/s');
    expect(si(999, 'W')).toBe('999 W');
  });
});

describe('wafer targets', () => {
  let out = '';
  beforeEach(() => {
    out = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  });
  afterEach(() => vi.restoreAllMocks());

  it('prints every preset and mesh:8x8 with units and the derived WSE-2 peak', () => {
    targetsCommand(undefined, {});
    for (const name of ['wse2', 'wse3', 'mesh:8x8']) expect(out).toContain(`target ${name}\n`);
    expect(out).toContain(`${si(750 * 994 * 8 * 1.1e9, 'FLOP/s')} (${750 * 994 * 8 * 1.1e9} FLOP/s)`);
    expect(out).toContain('6.5604 PFLOP/s (6560400000000000 FLOP/s)');
    expect(out).toMatch(/sram\.bytesPerCore +49152 {2}bytes/);
    expect(out).toContain('36642816000 bytes');
  });

  it('prints one target, or its JSON, and the JSON reads back as the same target', () => {
    targetsCommand('mesh:8x8', {});
    expect(out.match(/^target /gm)).toHaveLength(1);
    out = '';
    targetsCommand('wse3', { json: true });
    const json = JSON.parse(out) as Target;
    expect(json).toEqual(resolveTarget('wse3'));
    const dir = mkdtempSync(join(tmpdir(), 'wafer-targets-'));
    writeFileSync(join(dir, 'wse3-copy.json'), out);
    const back = parseTargetSpec(join(dir, 'wse3-copy.json'), (p) => readFileSync(p, 'utf8'));
    expect(back).toEqual(resolveTarget('wse3'));
  });

  it('prints a JSON file target and refuses a bad one with W5001', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wafer-targets-'));
    writeFileSync(join(dir, 'chip.json'), '{"base": "mesh:4x4", "router": {"colours": 24}}');
    targetsCommand(join(dir, 'chip.json'), {});
    expect(out).toContain('target chip\n');
    expect(out).toMatch(/router\.colours +24 {2}colours/);
    writeFileSync(join(dir, 'bad.json'), '{"router": {"colours": "many"}}');
    const [d] = diagnosticsOf(() => targetsCommand(join(dir, 'bad.json'), {}));
    expect(d.message).toContain("'router.colours'");
  });
});

describe('docs/targets.md', () => {
  const doc = readFileSync(new URL('../docs/targets.md', import.meta.url), 'utf8');
  it('documents every field with its wse2 and wse3 values', () => {
    for (const f of TARGET_FIELDS) {
      const row = doc.split('\n').find((l) => l.startsWith(`| \`${f.path}\` |`));
      expect(row, f.path).toBeDefined();
      if (f.path === 'name') continue;
      const cells = row!.split('|').map((c) => c.trim());
      const value = (name: string) => f.path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], resolveTarget(name));
      expect(Number(cells[4].replace(/`/g, '')), `${f.path} wse2`).toBe(value('wse2'));
      expect(Number(cells[5].replace(/`/g, '')), `${f.path} wse3`).toBe(value('wse3'));
    }
  });
});
