import { parseGraph, printGraph } from './ir/text.js';
const src = `graph @main opset 17 {
  input %x : f32[batch,128]
  const %w : f32[2,2] = dense<[1.0, 0.1, nan, -0.0]>
  const %shape : i64[2] = dense<[1, -1]>
  const %big : i64[2] = dense<[9223372036854775807, -9223372036854775808]>
  const %h : f16[17] = dense<hex:0000803f0000803f0000803f0000803f0000803f0000803f0000803f0000803f0000>
  %y : f32[batch,64] = MatMul(%x, %w) @"MatMul_0"
  %a : ?, %b : ? = Split(%y, %shape) {axis = 1 : int} @split
  %o = com.microsoft:Foo(%a, _, %b) {alpha = 0.5 : float, perm = [0, 2, 1] : ints, mode = "constant" : string, t = dense<[1.0, 2.0]> : f32[2] : tensor, e = [] : floats} @n3
  output %y, %o
}`;
const g = parseGraph(src);
const p = printGraph(g);
console.log(p);
console.log(printGraph(parseGraph(p)) === p);
