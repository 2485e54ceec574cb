/**
 * Structural equality of programs (and of any of their parts), as the codec's round-trip promise
 * means it: same keys with the same values, where an absent optional field and one set to undefined
 * are the same, byte arrays and the typed arrays of tensor attributes compare by type and content,
 * NaN equals NaN, and 0 equals −0 (an expression literal −0 is written as 0). programDiff names the
 * first difference, for test messages.
 */

/** The path of the first difference between a and b ("regions[0].kernel.body[2].guard"), or undefined. */
export function programDiff(a: unknown, b: unknown, path = ''): string | undefined {
  const here = path || '(root)';
  if (typeof a === 'number' && typeof b === 'number') return a === b || (Number.isNaN(a) && Number.isNaN(b)) ? undefined : here;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return a === b ? undefined : here;
  if (ArrayBuffer.isView(a) || ArrayBuffer.isView(b)) {
    if (!ArrayBuffer.isView(a) || !ArrayBuffer.isView(b) || a.constructor !== b.constructor) return here;
    const x = a as unknown as ArrayLike<number>, y = b as unknown as ArrayLike<number>;
    if (x.length !== y.length) return here;
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i] && !(Number.isNaN(x[i]) && Number.isNaN(y[i]))) return `${path}[${i}]`;
    return undefined;
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!(Array.isArray(a) && Array.isArray(b)) || a.length !== b.length) return here;
    for (let i = 0; i < a.length; i++) {
      const d = programDiff(a[i], b[i], `${path}[${i}]`);
      if (d !== undefined) return d;
    }
    return undefined;
  }
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const keys = (o: Record<string, unknown>) => Object.keys(o).filter((k) => o[k] !== undefined).sort();
  const ka = keys(ra);
  const kb = keys(rb);
  if (ka.length !== kb.length || ka.some((k, i) => k !== kb[i])) {
    const missing = ka.find((k) => !kb.includes(k)) ?? kb.find((k) => !ka.includes(k));
    return path ? `${path}.${missing}` : String(missing);
  }
  for (const k of ka) {
    const d = programDiff(ra[k], rb[k], path ? `${path}.${k}` : k);
    if (d !== undefined) return d;
  }
  return undefined;
}

/** True when the two values are equal in the sense above. */
export function programsEqual(a: unknown, b: unknown): boolean {
  return programDiff(a, b) === undefined;
}
