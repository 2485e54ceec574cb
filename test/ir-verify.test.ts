/**
 * The graph IR verifier: a good graph passes, and each kind of violation (SSA, use before def,
 * undefined values and outputs, cycles, types, unregistered ops, disagreement with an op's infer
 * rule) is reported as a located W2005 diagnostic, all of them at once.
 */
import { describe, expect, it } from 'vitest';
import { DiagnosticError, type Diagnostic } from '../ir/diagnostics.js';
import type { Graph } from '../ir/graph.js';
import { registerOps, type OpDef } from '../ir/ops/registry.js';
import { getOp } from '../ir/ops/index.js';
import { Tensor } from '../ir/tensor.js';
import { parseGraph } from '../ir/text.js';
import { assertVerified, verifyGraph } from '../ir/verify.js';
import { fail } from '../ir/ops/util.js';

// A test-only op whose rule is known here: output = input 0's type; rejects rank > 2.
const twice: OpDef = {
  infer: (inputs) => {
    const x = inputs[0];
    if (!x) fail('missing input');
    if (x.type.shape.length > 2) fail(`rank ${x.type.shape.length} is too high`, 'use rank ≤ 2');
    return [x.type];
  },
  evaluate: (inputs) => [inputs[0] as Tensor],
};
registerOps({ 'test.verify:Twice': twice });

/** Parses an IR body (statements only). */
function ir(body: string): Graph {
  return parseGraph(`graph @t opset 17 {\n${body}\n}`);
}

function only(problems: Diagnostic[]): Diagnostic {
  expect(problems.map((p) => p.message)).toHaveLength(1);
  expect(problems[0].code).toBe('W2005');
  expect(problems[0].hint).toBeTruthy();
  return problems[0];
}

const GOOD = `
  input %x : f32[2,3]
  const %w : f32[3,4] = dense<hex:${'0000803f'.repeat(12)}>
  const %b : f32[4] = dense<[1.0, 2.0, 3.0, 4.0]>
  %y : f32[2,4] = MatMul(%x, %w) @mm
  %z : f32[2,4] = Add(%y, %b) @add
  %r : f32[2,4] = Relu(%z) @relu
  %t : f32[2,4] = test.verify:Twice(%r) @twice
  output %t, %y`;

describe('verifyGraph', () => {
  it('uses the registered MatMul, Add and Relu', () => {
    expect(getOp('MatMul') && getOp('Add') && getOp('Relu')).toBeTruthy();
  });

  it('passes a good graph, including an input with a default value and unknown types', () => {
    expect(verifyGraph(ir(GOOD))).toEqual([]);
    const g = ir(`
  input %x : f32[n,3]
  input %k : i64[1]
  const %k : i64[1] = dense<[2]>
  %y : ? = Relu(%x) @relu
  %s : f32[n,3] = Add(%x, %x) @add
  output %y, %s, %k`);
    expect(verifyGraph(g)).toEqual([]);
  });

  it('reports a value defined twice', () => {
    const d = only(verifyGraph(ir(`
  input %x : f32[2]
  %y : f32[2] = Relu(%x) @a
  %y : f32[2] = Relu(%x) @b
  output %y`)));
    expect(d.message).toBe("value '%y' is defined 2 times (by node 'a', node 'b')");
    expect(d.location).toBe("node 'b'");
  });

  it('reports an input redefined by a node and a constant redefined by a node', () => {
    const problems = verifyGraph(ir(`
  input %x : f32[2]
  const %c : f32[2] = dense<[1.0, 2.0]>
  %x : f32[2] = Relu(%c) @a
  %c : f32[2] = Relu(%x) @b`));
    expect(problems.map((p) => p.message)).toEqual([
      "value '%x' is defined 2 times (by a graph input, node 'a')",
      "value '%c' is defined 2 times (by a constant, node 'b')",
    ]);
  });

  it('reports a use of an undefined value', () => {
    const d = only(verifyGraph(ir(`
  input %x : f32[2]
  %y : f32[2] = Add(%x, %nope) @add
  output %y`)));
    expect(d.message).toBe("node reads '%nope', which nothing defines");
    expect(d.location).toBe("node 'add'");
  });

  it('reports a use before the definition (nodes out of order)', () => {
    const d = only(verifyGraph(ir(`
  input %x : f32[2]
  %z : f32[2] = Relu(%y) @second
  %y : f32[2] = Relu(%x) @first
  output %z`)));
    expect(d.message).toBe("node reads '%y' before node 'first' defines it");
    expect(d.location).toBe("node 'second'");
  });

  it('reports a cycle and names its nodes', () => {
    const problems = verifyGraph(ir(`
  input %x : f32[2]
  %a : f32[2] = Add(%x, %c) @A
  %b : f32[2] = Relu(%a) @B
  %c : f32[2] = Relu(%b) @C
  %d : f32[2] = Relu(%d) @selfloop
  %e : f32[2] = Relu(%a) @outside
  output %e`));
    const cycles = problems.filter((p) => p.message.includes('cycle'));
    expect(cycles.map((p) => [p.message, p.location]).sort()).toEqual([
      ["nodes 'A', 'B', 'C' form a cycle", "node 'A'"],
      ["nodes 'selfloop' form a cycle", "node 'selfloop'"],
    ]);
    // the back edges are also uses before definition
    expect(problems.filter((p) => p.message.includes('before'))).toHaveLength(2);
  });

  it('reports undefined graph outputs', () => {
    const d = only(verifyGraph(ir(`
  input %x : f32[2]
  output %x, %ghost`)));
    expect(d.message).toBe("graph output '%ghost' is not defined");
    expect(d.location).toBe("value '%ghost'");
  });

  it('reports missing and stale type entries, bad dims and constant type mismatches', () => {
    const g = ir(`
  input %x
  input %n : f32["",2]
  const %c : f32[3] = dense<[1, 2]> : i32[2]
  type %old : f32[2]
  output %x, %n, %c`);
    g.types.set('neg', { dtype: 'float32', shape: [-1] });
    g.inputs.push('neg');
    expect(verifyGraph(g).map((p) => [p.message, p.location])).toEqual([
      ["value '%x' has no entry in the graph's types", "value '%x'"],
      ['invalid dim "" in type float32[,2]', "value '%n'"],
      ["value '%old' has a type but nothing defines it", "value '%old'"],
      ['invalid dim -1 in type float32[-1]', "value '%neg'"],
      ["constant '%c' is declared float32[3] but holds int32[2]", "value '%c'"],
    ]);
  });

  it("reports a recorded type that disagrees with the op's infer rule", () => {
    const d = only(verifyGraph(ir(`
  input %x : f32[2,3]
  input %b : f32[3]
  %y : f32[2,2] = Add(%x, %b) @add
  output %y`)));
    expect(d.message).toBe("Add: output '%y' is recorded as float32[2,2] but its inputs give float32[2,3]");
    expect(d.location).toBe("node 'add'");
    const dt = only(verifyGraph(ir(`
  input %x : f32[2]
  %y : f64[2] = test.verify:Twice(%x) @tw
  output %y`)));
    expect(dt.message).toBe("Twice: output '%y' is recorded as float64[2] but its inputs give float32[2]");
  });

  it('reports inputs the op rejects, with the op error text', () => {
    const mm = only(verifyGraph(ir(`
  input %a : f32[2,3]
  input %b : f32[4,5]
  %y : ? = MatMul(%a, %b) @mm`)));
    expect(mm.message).toMatch(/^MatMul: .*\[W2002\]$/);
    expect(mm.location).toBe("node 'mm'");
    const tw = only(verifyGraph(ir(`
  input %a : f32[2,3,4]
  %y : ? = test.verify:Twice(%a) @tw`)));
    expect(tw).toEqual({ code: 'W2005', message: 'Twice: rank 3 is too high [W2002]', location: "node 'tw'", hint: 'use rank ≤ 2' });
  });

  it('accepts a symbolic recorded dim, and skips nodes with symbolic or non-constant inputs', () => {
    expect(verifyGraph(ir(`
  input %x : f32[2,3]
  %y : f32[2,m] = Relu(%x) @relu
  output %y`))).toEqual([]);
    expect(verifyGraph(ir(`
  input %x : f32[n,3]
  %y : f32[7] = Relu(%x) @relu
  output %y`))).toEqual([]);
    // Reshape's shape is a graph input: infer cannot know the output (W2003), which is not an error
    expect(verifyGraph(ir(`
  input %x : f32[6]
  input %s : i64[2]
  %y : f32[2,3] = Reshape(%x, %s) @reshape
  output %y`))).toEqual([]);
  });

  it('uses constant input values in infer (Reshape with a constant shape)', () => {
    const d = only(verifyGraph(ir(`
  input %x : f32[6]
  const %s : i64[2] = dense<[3, -1]>
  %y : f32[2,3] = Reshape(%x, %s) @reshape
  output %y`)));
    expect(d.message).toBe("Reshape: output '%y' is recorded as float32[2,3] but its inputs give float32[3,2]");
  });

  it('reports unregistered ops once per op type, listing the nodes', () => {
    const d = only(verifyGraph(ir(`
  input %x : f32[2]
  %a : f32[2] = FancyOp(%x) @f1
  %b : f32[2] = FancyOp(%a) @f2
  %c : f32[2] = Relu(%b) @r
  output %c`)));
    expect(d.message).toBe("op FancyOp is not registered (used by 2 nodes: 'f1', 'f2')");
    expect(d.location).toBe("node 'f1'");
    expect(only(verifyGraph(ir(`
  input %x : f32[2]
  %a : f32[2] = com.x:Relu(%x) @r
  output %a`))).message).toBe("op com.x:Relu is not registered (used by 1 node: 'r')");
  });

  it('reports int attributes holding non-integers and constants breaking the storage rule', () => {
    const g = ir(`
  input %x : f32[2,3]
  %y : f32[2,3] = Relu(%x) {extra = [1, 0] : ints} @r
  output %y`);
    expect(verifyGraph(g)).toEqual([]);
    g.nodes[0].attrs.extra = { kind: 'ints', value: [1, 0.5] };
    expect(only(verifyGraph(g)).message).toBe("attribute 'extra' of kind ints holds a non-integer");
    const c = ir(`
  const %c : i64[2] = dense<[1, 2]>
  output %c`);
    c.constants.set('c', new Tensor('int64', [2], new Int32Array([1, 2])));
    expect(only(verifyGraph(c)).message).toBe("constant '%c' (int64[2]) breaks the storage rule of dtype.ts");
  });

  it('reports empty and duplicate node names', () => {
    expect(verifyGraph(ir(`
  input %x : f32[2]
  %a : f32[2] = Relu(%x) @""
  %b : f32[2] = Relu(%a) @r
  %c : f32[2] = Relu(%b) @r
  output %c`)).map((p) => [p.message, p.location])).toEqual([
      ['a Relu node has no name', 'node 0'],
      ["node name 'r' is used by more than one node", "node 'r'"],
    ]);
  });

  it('collects every problem, and assertVerified throws them all', () => {
    const g = ir(`
  input %x : f32[2]
  %y : f32[3] = Relu(%undefined) @a
  %y : f32[3] = Relu(%x) @b
  output %gone`);
    expect(verifyGraph(g)).toHaveLength(4);
    let thrown: unknown;
    try {
      assertVerified(g);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(DiagnosticError);
    const list = (thrown as DiagnosticError).diagnostics;
    expect(list.map((p) => p.message)).toEqual([
      "value '%y' is defined 2 times (by node 'a', node 'b')",
      "node reads '%undefined', which nothing defines",
      "graph output '%gone' is not defined",
      "Relu: output '%y' is recorded as float32[3] but its inputs give float32[2]",
    ]);
    expect(() => assertVerified(ir(GOOD))).not.toThrow();
  });

  it('handles deep graphs (a 20000-node chain) without recursion limits', () => {
    const lines = ['  input %v0 : f32[1]'];
    for (let i = 1; i <= 20000; i++) lines.push(`  %v${i} : f32[1] = Relu(%v${i - 1}) @n${i}`);
    lines.push('  %v0b : f32[1] = Relu(%v20000) @back');
    const ok = ir(lines.join('\n') + '\n  output %v20000');
    expect(verifyGraph(ok)).toEqual([]);
    // close a long cycle: n1 reads the last value
    const cyclic = ir(lines.join('\n').replace('Relu(%v0) @n1', 'Add(%v0, %v20000) @n1'));
    const cycles = verifyGraph(cyclic).filter((p) => p.message.includes('cycle'));
    expect(cycles).toHaveLength(1);
    expect(cycles[0].message).toMatch(/^nodes 'n1', 'n2', .* form a cycle$/);
  });
});
