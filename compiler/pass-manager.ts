/**
 * The pass manager: runs a flat list of passes over the graph IR, verifying after each one (on by
 * default), timing them, and handing the printed IR before/after chosen passes to a callback (the CLI
 * prints it or writes it to --dump-dir). Passes never do I/O.
 */
import { DiagnosticError } from '../ir/diagnostics.js';
import type { Graph } from '../ir/graph.js';
import { printGraph } from '../ir/text.js';
import { verifyGraph } from '../ir/verify.js';

export interface PassContext {
  /** Upper bound on elements of a tensor the compiler may create (constant folding). */
  maxFoldElements: number;
}

export interface GraphPass {
  /** `verb-noun` id used on the command line. */
  id: string;
  summary: string;
  run(graph: Graph, ctx: PassContext): Graph;
}

export type IrDumpWhen = 'before' | 'after';

export interface PipelineOptions {
  /** Verify the IR after every pass (default true). */
  verify?: boolean;
  /** Pass ids (or 'all') whose input IR is printed. */
  printBefore?: string[];
  /** Pass ids (or 'all') whose output IR is printed. */
  printAfter?: string[];
  /** Receives printed IR. Index is the pass's position in the pipeline. */
  onIr?: (passId: string, when: IrDumpWhen, index: number, text: string) => void;
  /** Receives each pass's wall time in milliseconds (only for --time-passes reports). */
  onTime?: (passId: string, ms: number) => void;
  context?: Partial<PassContext>;
}

const DEFAULT_CONTEXT: PassContext = { maxFoldElements: 1 << 24 };

function wants(list: string[] | undefined, id: string): boolean {
  return !!list && (list.includes('all') || list.includes(id));
}

/** Checks that every id in a --print-ir-* list names a pass of the pipeline. */
export function checkPassIds(passes: readonly { id: string }[], ids: string[] | undefined, flag: string): void {
  for (const id of ids ?? []) {
    if (id !== 'all' && !passes.some((p) => p.id === id)) {
      throw new DiagnosticError({
        code: 'W2008',
        message: `${flag}: no pass named '${id}'`,
        hint: `passes: ${passes.map((p) => p.id).join(', ')}, or 'all'`,
      });
    }
  }
}

export function runPasses(graph: Graph, passes: GraphPass[], options: PipelineOptions = {}): Graph {
  const ctx: PassContext = { ...DEFAULT_CONTEXT, ...options.context };
  const verify = options.verify ?? true;
  checkPassIds(passes, options.printBefore, '--print-ir-before');
  checkPassIds(passes, options.printAfter, '--print-ir-after');
  let g = graph;
  passes.forEach((pass, index) => {
    if (wants(options.printBefore, pass.id)) options.onIr?.(pass.id, 'before', index, printGraph(g));
    const t0 = performance.now();
    g = pass.run(g, ctx);
    options.onTime?.(pass.id, performance.now() - t0);
    if (wants(options.printAfter, pass.id)) options.onIr?.(pass.id, 'after', index, printGraph(g));
    if (verify) {
      const problems = verifyGraph(g);
      if (problems.length) {
        throw new DiagnosticError(
          problems.map((d) => ({ ...d, message: `after pass ${pass.id}: ${d.message}` })),
        );
      }
    }
  });
  return g;
}
