/**
 * The graph IR text form: `printGraph` and `parseGraph`, MLIR-flavoured and exact
 * (print → parse → print is the identity, and parse(print(g)) is structurally equal to g).
 *
 *   graph @main opset 17 {
 *     input %x : f32[batch,128]
 *     const %w : f32[128,64] = dense<hex:0000803f...>
 *     %y : f32[batch,64] = MatMul(%x, %w) @MatMul_0
 *     output %y
 *   }
 *
 * The grammar and the rules for names, numbers and tensor payloads are in docs/ir.md. Printing is in
 * text-print.ts, parsing in text-lex.ts + text-parse.ts, payload encodings in text-tensor.ts.
 */
export { printGraph, formatType, formatName } from './text-print.js';
export { parseGraph } from './text-parse.js';
