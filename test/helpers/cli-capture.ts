/**
 * Runs the `wafer` CLI in-process with stdout and stderr captured: `captureCli()` (called in a test
 * file or a describe block) installs the spies around every test of that scope and returns the
 * captured text and a `wafer(...args)` runner returning the exit code.
 */
import { afterEach, beforeEach, vi } from 'vitest';
import { main } from '../../cli/main.js';

export interface CliCapture {
  /** What the current test wrote to stdout / stderr so far. */
  out(): string;
  err(): string;
  wafer(...args: string[]): Promise<number>;
}

export function captureCli(): CliCapture {
  let out = '';
  let err = '';
  beforeEach(() => {
    out = '';
    err = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  });
  afterEach(() => vi.restoreAllMocks());
  return { out: () => out, err: () => err, wafer: (...args: string[]) => main(['node', 'wafer', ...args]) };
}
