/**
 * `wafer conformance <dir...>`: runs every case (in worker threads), prints the cases that do not
 * pass, a per-op-type table and the closing line `N passed, N failed, N skipped` (failed counts fail,
 * rejected and crash; skipped counts unsupported). With --baseline, exits 1 when a listed case no
 * longer passes; --update-baseline adds new passes to it. Exits 1 on any crash. `--backend emulator
 * --target mesh:WxH` runs each case through the compiler and the emulator instead of the reference
 * evaluator (cli/conformance-backend.ts); the reference backend is the default.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { diag } from '../../ir/diagnostics.js';
import { findCases, opTable, runCase, summarize, type CaseResult } from '../conformance.js';
import { runEmulatorCase } from '../conformance-backend.js';
import { parseTargetSpec } from '../../ir/target-presets.js';
import type { Target } from '../../ir/target.js';
import { CliExit } from '../exit.js';

interface Flags {
  json?: string;
  filter?: string;
  baseline?: string;
  updateBaseline?: boolean;
  jobs?: string;
  table: boolean;
  verbose?: boolean;
  /** 'reference' (default): import + reference evaluation; 'emulator': compile + functional emulation. */
  backend?: string;
  /** Target of the emulator backend (default mesh:4x4). */
  target?: string;
}

/** What a worker needs to run a case: the backend and, for the emulator, the target. */
export interface CaseJob {
  backend: 'reference' | 'emulator';
  target?: Target;
}

export function runJob(dir: string, job: CaseJob): CaseResult {
  return job.backend === 'emulator' ? runEmulatorCase(dir, { target: job.target! }) : runCase(dir);
}

async function runAll(dirs: string[], jobs: number, job: CaseJob): Promise<CaseResult[]> {
  // Worker threads need the compiled worker; from TypeScript sources (tsx, vitest) run in-process.
  const compiled = import.meta.url.endsWith('.js');
  if (jobs <= 1 || dirs.length < 8 || !compiled) return dirs.map((d) => runJob(d, job));
  const results = new Array<CaseResult>(dirs.length);
  const workerUrl = new URL('../conformance-worker.js', import.meta.url);
  let next = 0;
  await Promise.all(
    Array.from({ length: jobs }, () => new Promise<void>((resolve, reject) => {
      const w = new Worker(workerUrl, { execArgv: process.execArgv });
      const feed = () => {
        if (next < dirs.length) {
          const index = next++;
          w.postMessage({ index, dir: dirs[index], job });
        } else {
          w.postMessage(null);
        }
      };
      w.on('message', (m: { index: number; result: CaseResult }) => {
        results[m.index] = m.result;
        feed();
      });
      w.on('error', reject);
      w.on('exit', () => resolve());
      feed();
    })),
  );
  // a worker that died mid-case (out of memory, a native crash) leaves a hole: run it here to classify it
  for (let i = 0; i < dirs.length; i++) if (!results[i]) results[i] = runJob(dirs[i], job);
  return results;
}

export async function conformanceCommand(dirs: string[], flags: Flags): Promise<void> {
  for (const d of dirs) if (!existsSync(d)) throw diag('W1001', `test folder '${d}' does not exist`);
  let cases = findCases(dirs);
  if (flags.filter) {
    let re: RegExp;
    try {
      re = new RegExp(flags.filter);
    } catch {
      throw diag('W1001', `--filter '${flags.filter}' is not a valid regular expression`);
    }
    cases = cases.filter((c) => re.test(c.split('/').pop()!));
  }
  const jobs = flags.jobs ? Math.max(1, parseInt(flags.jobs, 10) || 1) : availableParallelism();
  const backend = flags.backend ?? 'reference';
  if (backend !== 'reference' && backend !== 'emulator') {
    throw diag('W1001', `--backend '${backend}' is not a backend`, undefined, 'use --backend reference (import + reference evaluation) or --backend emulator (compile + emulate)');
  }
  if (flags.target !== undefined && backend !== 'emulator') throw diag('W1001', '--target applies to --backend emulator only');
  const job: CaseJob = backend === 'emulator'
    ? { backend, target: parseTargetSpec(flags.target ?? 'mesh:4x4', (path) => readFileSync(path, 'utf8')) }
    : { backend };
  const t0 = performance.now();
  const results = await runAll(cases, jobs, job);
  const seconds = (performance.now() - t0) / 1000;

  for (const r of results) {
    if (r.status === 'pass' && !flags.verbose) continue;
    let detail = r.message ?? '';
    if (r.status === 'fail') detail += ` (max abs err ${r.maxAbsError?.toExponential(2)}, max rel err ${r.maxRelError?.toExponential(2)})`;
    if (r.status === 'unsupported') detail = `unsupported: ${r.unsupportedOps?.join(', ')}`;
    if (r.status === 'rejected') detail = `rejected ${detail}`;
    if (r.status === 'crash') detail = `CRASH ${detail}`;
    process.stdout.write(`${r.status.padEnd(11)} ${r.name}  ${detail.split('\n')[0]}\n`);
    if (r.status === 'crash') process.stdout.write(`${detail.split('\n').slice(1, 6).join('\n')}\n`);
  }
  if (flags.table) process.stdout.write(`\n${opTable(results)}\n\n`);
  const s = summarize(results);
  if (flags.json) writeFileSync(flags.json, JSON.stringify({ summary: s, seconds, cases: results.map(({ dir, ...r }) => r) }, null, 1));

  let regressions: string[] = [];
  if (flags.baseline) {
    const listed = existsSync(flags.baseline)
      ? readFileSync(flags.baseline, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))
      : [];
    const status = new Map(results.map((r) => [r.name, r.status]));
    regressions = listed.filter((n) => status.get(n) !== 'pass');
    if (flags.updateBaseline) {
      const all = new Set([...listed, ...results.filter((r) => r.status === 'pass').map((r) => r.name)]);
      writeFileSync(flags.baseline, [...all].sort().join('\n') + '\n');
    }
  }
  process.stdout.write(`${cases.length} cases in ${seconds.toFixed(1)} s: ${s.passed} pass, ${s.failed} fail, ${s.rejected} rejected, ${s.crashed} crash, ${s.unsupported} unsupported\n`);
  if (regressions.length) {
    process.stdout.write(`baseline regressions (${regressions.length}): ${regressions.join(', ')}\n`);
  }
  process.stdout.write(`${s.passed} passed, ${s.failed + s.rejected + s.crashed} failed, ${s.unsupported} skipped\n`);
  if (regressions.length || s.crashed) throw new CliExit(1);
}
