/**
 * The mesh IR text form: `printMesh` and `parseMesh`, exact like the graph text it extends
 * (print → parse → print is the identity, and parse(print(g)) is structurally equal to g).
 *
 *   mesh @tiny opset 18 target "mesh:4x4" {
 *     input %x : f32[8,16] in f32 at (0,0 1x1) [r,r] tile [8,16]
 *     %y : f32[8,16] in f32 at (0,0 1x1) [r,r] tile [8,16] = call Relu(%x) on (0,0 1x1) @relu
 *     output %y
 *   }
 *
 * The grammar is in docs/mesh-ir.md. Printing is in mesh-print.ts, parsing in mesh-parse.ts (which
 * extends the graph parser); names, attributes and tensor payloads follow docs/ir.md.
 */
export { printMesh, formatMeshValue, formatLayout, formatGrid, formatRect } from './mesh-print.js';
export { parseMesh } from './mesh-parse.js';
