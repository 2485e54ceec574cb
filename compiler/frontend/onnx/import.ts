/**
 * ONNX ModelProto → graph IR (ir/graph.ts).
 *
 * Reads the main graph: initializers and Constant nodes become `constants` (initializers also listed
 * as graph inputs are constants, not inputs); the other graph inputs become `inputs` with their
 * declared types (symbolic dims kept as names); nodes are checked against the op registry, every
 * unsupported op listed at once (W1010); attributes that later opsets turned into inputs are moved
 * (opset.ts); names are checked (one definition per value, every read defined) and nodes are put in
 * topological order. Types of values other than inputs, outputs, constants and value_info entries are
 * left undefined for shape inference. Bad input of any kind is a DiagnosticError, never another throw.
 */
import { diag, DiagnosticError, type Diagnostic } from '../../../ir/diagnostics.js';
import type { DType } from '../../../ir/dtype.js';
import type { Graph, Node, TensorType } from '../../../ir/graph.js';
import { getOp } from '../../../ir/ops/index.js';
import { Tensor } from '../../../ir/tensor.js';
import type { ImportHost } from '../../host.js';
import { convertAttrs } from './attributes.js';
import { decodeModel, toNum, type GraphProto, type ModelProto, type NodeProto } from './decode.js';
import { bindDims, tensorTypeOf } from './dims.js';
import { inlineFunctions } from './functions.js';
import { canonicalize } from './opset.js';
import { DEFAULT_MAX_ELEMENTS, tensorFromProto, type TensorContext } from './tensor.js';
import { topoSort } from './toposort.js';

/** Newest ai.onnx opset accepted: the newest one used by the ONNX 1.23 backend test suite. */
export const MAX_SUPPORTED_OPSET = 28;

export interface ImportOptions {
  /** Path of the model file: external data is resolved relative to its folder. */
  modelPath?: string;
  /** File access for external data; without one, external data is an error (W1005). */
  host?: ImportHost;
  /** Sizes for symbolic dims, by name. */
  dims?: Record<string, number>;
  /** Largest element count accepted for one tensor (default 2^31); checked before allocating. */
  maxElements?: number;
}

export function importOnnx(bytes: Uint8Array, options: ImportOptions = {}): Graph {
  const model = decodeModel(bytes);
  const gp = model.graph;
  if (!gp) throw diag('W1001', 'the file has no graph', undefined, 'this is not an ONNX model (or an empty one)');
  const opset = defaultOpset(model);
  const ctx: TensorContext = {
    maxElements: options.maxElements ?? DEFAULT_MAX_ELEMENTS,
    host: options.host,
    modelPath: options.modelPath,
    fileCache: new Map(),
  };
  const nodes = inlineFunctions(gp.node ?? [], model.functions ?? []);
  const graph = new GraphBuilder(gp, opset, ctx).build(nodes);
  return options.dims ? bindDims(graph, options.dims) : graph;
}

function defaultOpset(model: ModelProto): number {
  let version: number | undefined;
  for (const o of model.opsetImport ?? []) {
    if (o.domain === '' || o.domain === 'ai.onnx' || !o.domain) version = Math.max(version ?? 0, toNum(o.version));
  }
  if (version === undefined) {
    if (toNum(model.irVersion) < 3 && toNum(model.irVersion) > 0) return 1; // IR v1/v2 implied opset 1
    const usesDefault = (model.graph?.node ?? []).some((n) => !n.domain || n.domain === 'ai.onnx');
    if (usesDefault) {
      throw diag('W1001', 'the model uses ai.onnx operators but declares no ai.onnx opset (opset_import)', undefined, 'the file is corrupt or not an ONNX model');
    }
    return MAX_SUPPORTED_OPSET; // only other domains: the ai.onnx opset is irrelevant
  }
  if (!Number.isSafeInteger(version) || version < 1 || version > MAX_SUPPORTED_OPSET) {
    throw diag(
      'W1009',
      `the model uses ai.onnx opset ${version}; supported opsets are 1 to ${MAX_SUPPORTED_OPSET}`,
      undefined,
      'convert the model to a supported opset (onnx.version_converter) or update wafer',
    );
  }
  return version;
}

interface Unsupported {
  first: string;
  count: number;
}

class GraphBuilder {
  private readonly constants = new Map<string, Tensor>();
  private readonly inputs: string[] = [];
  private readonly declared = new Map<string, TensorType>();
  /** Every name the file mentions, so generated names never collide with one. */
  private readonly taken = new Set<string>();
  /** Who defines each value, for W1006 messages. */
  private readonly definer = new Map<string, string>();
  private readonly unsupported = new Map<string, Unsupported>();
  private unknownDims = 0;

  constructor(
    private readonly gp: GraphProto,
    private readonly opset: number,
    private readonly ctx: TensorContext,
  ) {}

  build(nodeProtos: readonly NodeProto[]): Graph {
    this.collectNames(nodeProtos);
    this.readInitializers();
    this.readInputs();
    this.readValueInfo();
    const nodes = this.readNodes(nodeProtos);
    this.reportUnsupported();
    this.checkDefinitions(nodes);
    const outputs = this.readOutputs();
    const sorted = topoSort(nodes, new Set([...this.inputs, ...this.constants.keys()]));

    const types = new Map<string, TensorType | undefined>();
    for (const name of this.inputs) types.set(name, this.declared.get(name));
    for (const [name, t] of this.constants) types.set(name, { dtype: t.dtype, shape: [...t.shape] });
    for (const n of sorted) for (const o of n.outputs) if (o) types.set(o, this.declared.get(o));
    return { name: this.gp.name ?? '', opset: this.opset, inputs: this.inputs, outputs, types, constants: this.constants, nodes: sorted };
  }

  private fresh = (): string => {
    let s: string;
    do s = `unk__${this.unknownDims++}`;
    while (this.taken.has(s));
    return s;
  };

  private collectNames(nodes: readonly NodeProto[]): void {
    const add = (s: string | null | undefined) => s && this.taken.add(s);
    for (const t of this.gp.initializer ?? []) add(t.name);
    for (const v of this.gp.input ?? []) add(v.name);
    for (const v of this.gp.output ?? []) add(v.name);
    for (const n of nodes) {
      add(n.name);
      for (const s of n.input ?? []) add(s);
      for (const s of n.output ?? []) add(s);
    }
    for (const v of this.gp.valueInfo ?? []) {
      for (const d of v.type?.tensorType?.shape?.dim ?? []) add(d.dimParam);
    }
    for (const v of [...(this.gp.input ?? []), ...(this.gp.output ?? [])]) {
      for (const d of v.type?.tensorType?.shape?.dim ?? []) add(d.dimParam);
    }
  }

  private define(name: string, by: string, location: string): void {
    const prev = this.definer.get(name);
    if (prev !== undefined) {
      throw diag('W1006', `value '${name}' is defined twice: by ${prev} and by ${by}`, location, 'every value must have exactly one producer; the file is malformed');
    }
    this.definer.set(name, by);
  }

  private readInitializers(): void {
    if ((this.gp.sparseInitializer ?? []).length > 0) {
      throw diag('W1002', 'sparse initializers are not supported', undefined, 'store the weights as dense tensors');
    }
    (this.gp.initializer ?? []).forEach((t, i) => {
      const name = t.name ?? '';
      if (!name) throw diag('W1013', `initializer #${i} has no name`, undefined, 'the file is malformed');
      this.define(name, `initializer '${name}'`, name);
      this.constants.set(name, tensorFromProto(t, `initializer '${name}'`, this.ctx));
    });
  }

  private readInputs(): void {
    const seen = new Set<string>();
    for (const v of this.gp.input ?? []) {
      const name = v.name ?? '';
      if (!name) throw diag('W1013', 'a graph input has no name', undefined, 'the file is malformed');
      if (seen.has(name)) throw diag('W1006', `graph input '${name}' is listed twice`, name, 'the file is malformed');
      seen.add(name);
      if (this.constants.has(name)) continue; // an initializer listed as input (IR < 4 style): a constant
      this.define(name, `graph input '${name}'`, name);
      const t = tensorTypeOf(v.type, `graph input '${name}'`, this.fresh);
      if (typeof t === 'string') throw typeProblem('input', name, t);
      this.inputs.push(name);
      this.declared.set(name, t);
    }
  }

  /** value_info and output types; entries that are not plain tensors of a supported type are skipped. */
  private readValueInfo(): void {
    for (const v of this.gp.valueInfo ?? []) {
      const name = v.name ?? '';
      if (!name || this.declared.has(name) || this.constants.has(name)) continue;
      try {
        const t = tensorTypeOf(v.type, name, this.fresh);
        if (typeof t !== 'string') this.declared.set(name, t);
      } catch (e) {
        if (!(e instanceof DiagnosticError)) throw e; // an intermediate of unsupported type: shape inference decides
      }
    }
  }

  private readOutputs(): string[] {
    const outputs: string[] = [];
    for (const v of this.gp.output ?? []) {
      const name = v.name ?? '';
      if (!name) throw diag('W1013', 'a graph output has no name', undefined, 'the file is malformed');
      if (!this.definer.has(name)) {
        throw diag('W1007', `graph output '${name}' is not produced by any node, input or initializer`, name, 'the file is malformed');
      }
      outputs.push(name);
      if (this.constants.has(name) || this.inputs.includes(name)) continue;
      const t = tensorTypeOf(v.type, `graph output '${name}'`, this.fresh);
      if (t === 'not-a-tensor') throw typeProblem('output', name, t);
      if (typeof t !== 'string') this.declared.set(name, t);
    }
    return outputs;
  }

  private readNodes(protos: readonly NodeProto[]): Node[] {
    const names = new Set<string>();
    const given = new Set(protos.map((p) => p.name ?? ''));
    const nodes: Node[] = [];
    protos.forEach((p, index) => {
      const op = p.opType ?? '';
      let domain = p.domain ?? '';
      if (domain === 'ai.onnx') domain = '';
      let name = p.name ?? '';
      if (!name || names.has(name)) {
        // generated names must not collide with a name another node has in the file
        const base = `${op || 'node'}_${index}`;
        name = base;
        for (let k = 1; names.has(name) || given.has(name); k++) name = `${base}_${k}`;
      }
      names.add(name);
      if (!op) throw diag('W1011', `node #${index} has no op_type`, name, 'the file is malformed');
      const inputs = [...(p.input ?? [])];
      const outputs = [...(p.output ?? [])];
      if (domain === '' && op === 'Constant') {
        this.readConstantNode(p, name, outputs);
        return;
      }
      if (!getOp(op, domain)) {
        this.markUnsupported(domain ? `${domain}:${op}` : op, name);
        return;
      }
      const conv = convertAttrs(p.attribute ?? [], name, this.ctx);
      if (conv.graphAttrs.length > 0) {
        this.markUnsupported(domain ? `${domain}:${op}` : op, name);
        return;
      }
      if (conv.unsupported.length > 0) {
        throw diag('W1011', `attribute '${conv.unsupported[0]}' of ${op} has a kind the IR cannot hold (sparse tensor, type or tensor list)`, name);
      }
      const node: Node = { op, domain, name, inputs, outputs, attrs: conv.attrs };
      const variant = canonicalize(node, {
        opset: this.opset,
        addConst: (base, t) => this.addConst(base, t),
        dtypeOf: (v) => this.dtypeOf(v),
        rankOf: (v) => (this.constants.get(v)?.shape ?? this.declared.get(v)?.shape)?.length,
        constant: (v) => this.constants.get(v),
      });
      if (variant) this.markUnsupported(variant, name);
      else nodes.push(node);
    });
    return nodes;
  }

  private readConstantNode(p: NodeProto, name: string, outputs: string[]): void {
    const conv = convertAttrs(p.attribute ?? [], name, this.ctx);
    const keys = [...Object.keys(conv.attrs), ...conv.unsupported, ...conv.graphAttrs];
    if (keys.length !== 1) {
      throw diag('W1011', `Constant node must have exactly one value attribute, has ${keys.length} (${keys.join(', ')})`, name);
    }
    if (outputs.length !== 1 || !outputs[0]) throw diag('W1011', 'Constant node must have exactly one named output', name);
    const key = keys[0];
    const a = conv.attrs[key];
    let t: Tensor | undefined;
    if (a && key === 'value' && a.kind === 'tensor') t = a.value;
    else if (a && key === 'value_float' && a.kind === 'float') t = Tensor.from('float32', [], [a.value]);
    else if (a && key === 'value_floats' && a.kind === 'floats') t = Tensor.from('float32', [a.value.length], a.value);
    else if (a && key === 'value_int' && a.kind === 'int') t = Tensor.from('int64', [], [a.value]);
    else if (a && key === 'value_ints' && a.kind === 'ints') t = Tensor.from('int64', [a.value.length], a.value);
    else if (['value_string', 'value_strings', 'sparse_value'].includes(key)) {
      this.markUnsupported(`Constant(${key})`, name);
      return;
    } else {
      throw diag('W1011', `Constant node has an invalid value attribute '${key}'${a ? ` of kind ${a.kind}` : ''}`, name);
    }
    this.define(outputs[0], `Constant node '${name}'`, name);
    this.constants.set(outputs[0], t);
  }

  private addConst(base: string, t: Tensor): string {
    let name = base;
    for (let k = 1; this.taken.has(name); k++) name = `${base}_${k}`;
    this.taken.add(name);
    this.definer.set(name, `constant '${name}'`);
    this.constants.set(name, t);
    return name;
  }

  private dtypeOf(name: string): DType | undefined {
    return this.constants.get(name)?.dtype ?? this.declared.get(name)?.dtype;
  }

  private markUnsupported(key: string, node: string): void {
    const u = this.unsupported.get(key);
    if (u) u.count++;
    else this.unsupported.set(key, { first: node, count: 1 });
  }

  private reportUnsupported(): void {
    if (this.unsupported.size === 0) return;
    const list: Diagnostic[] = [...this.unsupported].map(([op, u]) => ({
      code: 'W1010',
      message: `unsupported operator ${op}`,
      location: u.first,
      hint: `used by ${u.count} node${u.count === 1 ? '' : 's'}; see docs/frontend-onnx.md for the supported operators`,
    }));
    throw new DiagnosticError(list);
  }

  /** One definition per value (W1006), and every read defined somewhere (W1007, all listed). */
  private checkDefinitions(nodes: Node[]): void {
    for (const n of nodes) {
      for (const o of n.outputs) if (o) this.define(o, `node '${n.name}'`, n.name);
    }
    const missing = new Map<string, string>();
    for (const n of nodes) {
      for (const i of n.inputs) if (i && !this.definer.has(i) && !missing.has(i)) missing.set(i, n.name);
    }
    if (missing.size > 0) {
      throw new DiagnosticError(
        [...missing].map(([value, node]) => ({
          code: 'W1007',
          message: `node reads '${value}', which no node, graph input or initializer produces`,
          location: node,
          hint: 'the file is malformed, or the value comes from an outer graph (subgraphs are not supported)',
        })),
      );
    }
  }
}

function typeProblem(kind: 'input' | 'output', name: string, p: string): DiagnosticError {
  if (p === 'not-a-tensor') {
    // an unsupported type rather than a malformed file: W1002, which conformance counts as unsupported
    return diag('W1002', `graph ${kind} '${name}' is not a dense tensor (sequence, map, optional and sparse types are not supported)`, name, 'only dense tensor inputs and outputs are supported');
  }
  const what = p === 'missing' ? 'has no type' : 'has no shape (unknown rank)';
  return diag('W1013', `graph ${kind} '${name}' ${what}`, name, p === 'unknown-rank' ? 'give the input a shape (symbolic dims are fine)' : 'declare the tensor type of every graph input');
}
