/**
 * Printer of the graph IR text form (grammar in docs/ir.md; the parser is text-parse.ts).
 *
 * Output is canonical: inputs, constants, `type` declarations of values nothing defines, nodes, then
 * the outputs, each in the graph's order; attributes sorted by name; names bare when they are made of
 * safe characters, else JSON-quoted. The same graph always prints to the same bytes, and
 * print(parse(print(g))) === print(g).
 */
import { shortName } from './dtype.js';
import type { Attr, Attrs, Graph, Node, TensorType } from './graph.js';
import type { Tensor } from './tensor.js';
import { formatFloat, formatInt, formatPayload } from './text-tensor.js';

/** Characters of a bare value/node/graph name; `//` is excluded too (it starts a comment). */
export const NAME_RE = /^[A-Za-z0-9_.:/-]+$/;
/** A bare word: keywords, op names, domains, attribute names, dim symbols, dtypes, kinds. */
export const WORD_RE = /^[A-Za-z_][A-Za-z0-9_.]*$/;

/** `%x`, `%"a b"`: a value name (also used after `@` for node and graph names). */
export function formatName(name: string): string {
  return NAME_RE.test(name) && !name.includes('//') ? name : JSON.stringify(name);
}

export function formatWord(word: string): string {
  return WORD_RE.test(word) ? word : JSON.stringify(word);
}

export function formatType(t: TensorType | undefined): string {
  if (!t) return '?';
  const dims = t.shape.map((d) => (typeof d === 'number' ? formatInt(d) : formatWord(d)));
  return `${shortName(t.dtype)}[${dims.join(',')}]`;
}

export function formatTensor(t: Tensor): string {
  return `dense<${formatPayload(t)}>`;
}

function tensorType(t: Tensor): TensorType {
  return { dtype: t.dtype, shape: [...t.shape] };
}

function sameStaticType(declared: TensorType | undefined, t: Tensor): boolean {
  return (
    declared !== undefined &&
    declared.dtype === t.dtype &&
    declared.shape.length === t.shape.length &&
    declared.shape.every((d, i) => d === t.shape[i])
  );
}

export function formatAttr(a: Attr): string {
  switch (a.kind) {
    case 'int':
      return `${formatInt(a.value)} : int`;
    case 'float':
      return `${formatFloat(a.value)} : float`;
    case 'string':
      return `${JSON.stringify(a.value)} : string`;
    case 'ints':
      return `[${a.value.map((x) => formatInt(x)).join(', ')}] : ints`;
    case 'floats':
      return `[${a.value.map((x) => formatFloat(x)).join(', ')}] : floats`;
    case 'strings':
      return `[${a.value.map((x) => JSON.stringify(x)).join(', ')}] : strings`;
    case 'tensor':
      return `${formatTensor(a.value)} : ${formatType(tensorType(a.value))} : tensor`;
  }
}

/** ` {a = 1 : int, b = "x" : string}` in name order, or '' when there are none (shared with mesh-print.ts). */
export function formatAttrs(attrs: Attrs): string {
  const names = Object.keys(attrs).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (names.length === 0) return '';
  return ` {${names.map((n) => `${formatWord(n)} = ${formatAttr(attrs[n])}`).join(', ')}}`;
}

function formatOp(node: Node): string {
  return node.domain === '' ? formatWord(node.op) : `${formatWord(node.domain)}:${formatWord(node.op)}`;
}

export function printGraph(g: Graph): string {
  // `: T` when the value has an entry in `types` (`: ?` when it is not inferred yet), nothing when not
  const value = (name: string): string => `%${formatName(name)}${g.types.has(name) ? ` : ${formatType(g.types.get(name))}` : ''}`;
  const lines = [`graph @${formatName(g.name)} opset ${formatInt(g.opset)} {`];
  const defined = new Set<string>();
  for (const name of g.inputs) {
    lines.push(`  input ${value(name)}`);
    defined.add(name);
  }
  for (const [name, t] of g.constants) {
    // the tensor's own type is printed only when the declared one is missing or differs
    const own = sameStaticType(g.types.get(name), t) ? '' : ` : ${formatType(tensorType(t))}`;
    lines.push(`  const ${value(name)} = ${formatTensor(t)}${own}`);
    defined.add(name);
  }
  for (const n of g.nodes) for (const o of n.outputs) if (o) defined.add(o);
  for (const name of g.types.keys()) {
    if (!defined.has(name)) lines.push(`  type ${value(name)}`);
  }
  for (const n of g.nodes) {
    const results = n.outputs.length === 0 ? '()' : n.outputs.map((o) => (o ? value(o) : '_')).join(', ');
    const args = n.inputs.map((i) => (i ? `%${formatName(i)}` : '_')).join(', ');
    lines.push(`  ${results} = ${formatOp(n)}(${args})${formatAttrs(n.attrs)} @${formatName(n.name)}`);
  }
  if (g.outputs.length) lines.push(`  output ${g.outputs.map((o) => `%${formatName(o)}`).join(', ')}`);
  lines.push('}');
  return lines.join('\n') + '\n';
}
