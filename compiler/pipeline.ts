/**
 * Pipelines: flat lists of passes, with the form of the IR at each point.
 *
 *   frontend → verify           graph IR, types known for inputs/constants only, dims maybe symbolic
 *   infer-shapes                every value has a static type (dims must be bound first)
 *   fold-constants              shape arithmetic and other compile-time subgraphs are constants
 *   simplify                    no Identity / inference Dropout / no-op casts and reshapes, no dead code
 */
import type { GraphPass } from './pass-manager.js';
import { foldConstantsPass } from './passes/fold-constants.js';
import { inferShapesPass } from './passes/infer-shapes.js';
import { simplifyPass } from './passes/simplify.js';

/** The graph-level pipeline run on every imported model. */
export const GRAPH_PASSES: readonly GraphPass[] = [inferShapesPass, foldConstantsPass, simplifyPass];

export function passById(id: string): GraphPass | undefined {
  return GRAPH_PASSES.find((p) => p.id === id);
}
