/** Every diagnostic code in the table is documented in docs/diagnostics.md, and vice versa. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DIAGNOSTIC_CODES } from '../ir/diagnostics.js';

describe('diagnostic codes', () => {
  const doc = readFileSync(new URL('../docs/diagnostics.md', import.meta.url), 'utf8');
  const documented = new Set([...doc.matchAll(/^\| (W\d{4}) \|/gm)].map((m) => m[1]));

  it('has well-formed codes', () => {
    for (const code of Object.keys(DIAGNOSTIC_CODES)) expect(code).toMatch(/^W[1-6]\d{3}$/);
  });
  it('documents every code in docs/diagnostics.md', () => {
    expect(Object.keys(DIAGNOSTIC_CODES).filter((c) => !documented.has(c))).toEqual([]);
  });
  it('documents no code that does not exist', () => {
    expect([...documented].filter((c) => !(c in DIAGNOSTIC_CODES))).toEqual([]);
  });
});
