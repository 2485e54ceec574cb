/**
 * Number formatting for run reports and traces. Every rule here is fixed (no locale, no Intl, no
 * wall clock): the same number always prints the same way on every machine, so reports can be
 * compared byte for byte and held in golden tests.
 */

/** Integer with thousands separators: 1234567 → "1,234,567". Non-integers are rounded first. */
export function fmtInt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const r = Math.round(n);
  const neg = r < 0;
  const digits = String(Math.abs(r));
  let out = '';
  for (let i = 0; i < digits.length; i++) {
    if (i > 0 && (digits.length - i) % 3 === 0) out += ',';
    out += digits[i];
  }
  return neg ? '-' + out : out;
}

/**
 * A fraction as a percentage with one decimal. A positive fraction that would print as 0.0% prints
 * as "<0.1%" so a tiny but real load is not mistaken for none.
 */
export function fmtPct(fraction: number): string {
  if (!Number.isFinite(fraction)) return String(fraction);
  const p = fraction * 100;
  if (p > 0 && p < 0.05) return '<0.1%';
  return `${p.toFixed(1)}%`;
}

const TIME_UNITS: [number, string][] = [
  [1, 's'],
  [1e-3, 'ms'],
  [1e-6, 'µs'],
  [1e-9, 'ns'],
];

/** Seconds in the largest unit (s, ms, µs, ns) that keeps the value ≥ 1, with three decimals. */
export function fmtSeconds(s: number): string {
  if (!Number.isFinite(s)) return String(s);
  if (s === 0) return '0 s';
  for (const [scale, unit] of TIME_UNITS) {
    if (Math.abs(s) >= scale) return `${(s / scale).toFixed(3)} ${unit}`;
  }
  return `${(s / 1e-9).toFixed(3)} ns`;
}

const SI: [number, string][] = [
  [1, ''],
  [1e-3, 'm'],
  [1e-6, 'µ'],
  [1e-9, 'n'],
  [1e-12, 'p'],
];

/** A physical quantity below 1000 with an SI prefix down to pico: fmtSi(0.0012, 'J') → "1.200 mJ". */
export function fmtSi(v: number, unit: string): string {
  if (!Number.isFinite(v)) return `${v} ${unit}`;
  if (v === 0) return `0 ${unit}`;
  for (const [scale, prefix] of SI) {
    if (Math.abs(v) >= scale) return `${(v / scale).toFixed(3)} ${prefix}${unit}`;
  }
  return `${(v / 1e-12).toFixed(3)} p${unit}`;
}

/** A clock frequency: 1.1e9 → "1.100 GHz", 850e6 → "850.000 MHz". */
export function fmtHz(hz: number): string {
  if (hz >= 1e9) return `${(hz / 1e9).toFixed(3)} GHz`;
  if (hz >= 1e6) return `${(hz / 1e6).toFixed(3)} MHz`;
  if (hz >= 1e3) return `${(hz / 1e3).toFixed(3)} kHz`;
  return `${hz.toFixed(3)} Hz`;
}

/** Bytes with separators, and KiB / MiB when large enough to help the reader. */
export function fmtBytes(n: number): string {
  if (n >= 1 << 20) return `${fmtInt(n)} B (${(n / (1 << 20)).toFixed(1)} MiB)`;
  if (n >= 1 << 10) return `${fmtInt(n)} B (${(n / (1 << 10)).toFixed(1)} KiB)`;
  return `${fmtInt(n)} B`;
}

export function fmtCore(c: { x: number; y: number }): string {
  return `(${c.x},${c.y})`;
}

/**
 * The clock a RunResult was timed at. RunResult carries cycles and seconds but not the clock, so it
 * is recovered from their ratio (rounded to 12 significant digits to drop the division's last-bit
 * noise). Undefined when the run took no cycles.
 */
export function clockOf(r: { totalCycles: number; seconds: number }): number | undefined {
  if (!(r.totalCycles > 0) || !(r.seconds > 0)) return undefined;
  return Number((r.totalCycles / r.seconds).toPrecision(12));
}

/**
 * Lays out rows as a text table: the first row is the header; columns listed in `right` are
 * right-aligned (numbers), the others left-aligned. Two spaces between columns, no trailing blanks.
 */
export function table(rows: string[][], right: ReadonlySet<number>, indent = '  '): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, [...cell].length)));
  return rows.map((row) => {
    const cells = row.map((cell, i) => {
      const pad = ' '.repeat(widths[i] - [...cell].length);
      return right.has(i) ? pad + cell : cell + pad;
    });
    return (indent + cells.join('  ')).trimEnd();
  });
}
