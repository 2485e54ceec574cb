/**
 * Inlining of model-local functions (ModelProto.functions): a node whose (domain, op_type) names a
 * local function is replaced by the function body, with the function's formal inputs/outputs bound
 * to the call's values, its other values renamed `<call>/<name>` (unique per call), and attributes
 * that reference a function attribute (`ref_attr_name`) taking the call's value (or dropped, so the
 * op default applies, when the call does not set it). Calls inside bodies are inlined too.
 */
import { diag } from '../../../ir/diagnostics.js';
import type { AttributeProto, FunctionProto, NodeProto } from './decode.js';

const MAX_DEPTH = 32;
/** Nested calls can multiply: a few functions calling each other twice expand exponentially. */
const MAX_INLINED_NODES = 500_000;

export function inlineFunctions(nodes: readonly NodeProto[], functions: readonly FunctionProto[]): NodeProto[] {
  if (functions.length === 0) return [...nodes];
  const table = new Map<string, FunctionProto>();
  for (const f of functions) table.set(key(f.domain ?? '', f.name ?? ''), f);
  const out: NodeProto[] = [];
  let calls = 0;
  let created = 0;
  const expand = (list: readonly NodeProto[], depth: number, prefix: string) => {
    list.forEach((n, index) => {
      const f = table.get(key(n.domain ?? '', n.opType ?? ''));
      if (!f) {
        out.push(n);
        return;
      }
      const callName = n.name || `${prefix}${n.opType}_${index}`;
      created += f.node?.length ?? 0;
      if (created > MAX_INLINED_NODES) {
        throw diag('W1010', `unsupported operator ${n.opType}: inlining local functions creates more than ${MAX_INLINED_NODES} nodes`, callName, 'the functions call each other too often (or recursively)');
      }
      if (depth >= MAX_DEPTH) {
        throw diag('W1010', `unsupported operator ${n.opType}: local functions nested more than ${MAX_DEPTH} deep (recursive?)`, callName);
      }
      const scope = `${callName}#${calls++}/`;
      const rename = new Map<string, string>();
      (f.input ?? []).forEach((formal, i) => rename.set(formal, n.input?.[i] ?? ''));
      (f.output ?? []).forEach((formal, i) => {
        const actual = n.output?.[i];
        if (actual) rename.set(formal, actual);
      });
      const map = (s: string) => (s === '' ? '' : rename.get(s) ?? scope + s);
      const callAttrs = new Map<string, AttributeProto>();
      for (const a of n.attribute ?? []) if (a.name) callAttrs.set(a.name, a);
      const body: NodeProto[] = (f.node ?? []).map((b, j) => ({
        name: scope + (b.name || `${b.opType}_${j}`),
        opType: b.opType,
        domain: b.domain,
        input: (b.input ?? []).map(map),
        output: (b.output ?? []).map(map),
        attribute: bindAttrs(b.attribute ?? [], callAttrs),
      }));
      expand(body, depth + 1, scope);
    });
  };
  expand(nodes, 0, '');
  return out;
}

function key(domain: string, name: string): string {
  return `${domain === 'ai.onnx' ? '' : domain}\u0000${name}`;
}

function bindAttrs(attrs: readonly AttributeProto[], call: Map<string, AttributeProto>): AttributeProto[] {
  const out: AttributeProto[] = [];
  for (const a of attrs) {
    if (!a.refAttrName) {
      out.push(a);
      continue;
    }
    const actual = call.get(a.refAttrName);
    if (actual) out.push({ ...actual, name: a.name, refAttrName: '' });
  }
  return out;
}
