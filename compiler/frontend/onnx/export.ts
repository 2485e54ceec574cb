/**
 * Graph IR → ONNX ModelProto bytes, so graphs wafer builds itself (decoder graphs from LLM configs,
 * pass results) can be run by other tools such as onnxruntime and saved.
 *
 * Graph inputs and outputs become value_info with their types (numeric dims as dim_value, symbols as
 * dim_param); constants become initializers with raw_data (export-tensor.ts); the other typed values
 * are written as value_info. Nodes keep op type, domain, name, inputs ('' for omitted optional ones),
 * outputs and attributes. opset_import holds graph.opset for ai.onnx and version 1 for every other
 * domain the nodes use. Initializers are listed as graph inputs only when they are graph inputs in
 * the IR (an overridable default) or when irVersion < 4 requires it. The bytes depend only on the
 * graph and the options (protobufjs writes fields in schema order; everything else is in IR order).
 *
 * Nodes are written in the form the graph's opset defines: constant inputs that the IR's canonical
 * form moved out of attributes go back into attributes for opsets that predate the move
 * (export-legacy.ts); a moved input that is not constant is written as an input (docs/frontend-onnx.md).
 */
import { diag } from '../../../ir/diagnostics.js';
import type { Graph, TensorType } from '../../../ir/graph.js';
import { byteSize, onnxCode, type DType } from '../../../ir/dtype.js';
import { onnx, type GraphProto, type NodeProto, type ValueInfoProto } from './decode.js';
import { legacyForms } from './export-legacy.js';
import { attributeProto, int64, tensorProto } from './export-tensor.js';

export interface ExportOptions {
  /** producer_name written in the model (default 'wafer'). */
  producer?: string;
  /** ir_version to write, 3 to 11 (default 10; onnxruntime-node 1.30 reads 3 to 11). */
  irVersion?: number;
}

export const DEFAULT_EXPORT_IR_VERSION = 10;
/** Newest ONNX IR version the exporter writes (ONNX 1.18+). */
export const MAX_EXPORT_IR_VERSION = 11;
/** Protobuf messages are limited to 2 GiB; keep a margin for the graph structure. */
const MAX_PAYLOAD_BYTES = 2 ** 31 - 2 ** 24;

/** Encodes a graph as ONNX ModelProto bytes. */
export function exportOnnx(graph: Graph, options: ExportOptions = {}): Uint8Array {
  const irVersion = options.irVersion ?? DEFAULT_EXPORT_IR_VERSION;
  if (!Number.isSafeInteger(irVersion) || irVersion < 3 || irVersion > MAX_EXPORT_IR_VERSION) {
    throw diag('W2005', `cannot export ONNX ir_version ${irVersion}`, `graph '${graph.name}'`, `choose an ir_version from 3 to ${MAX_EXPORT_IR_VERSION} (default ${DEFAULT_EXPORT_IR_VERSION})`);
  }
  checkPayloadSize(graph);
  const model = {
    irVersion,
    producerName: options.producer ?? 'wafer',
    opsetImport: opsetImports(graph),
    graph: graphProto(graph, irVersion),
  };
  return onnx.ModelProto.encode(model).finish();
}

function opsetImports(graph: Graph): { domain: string; version: number }[] {
  const domains = new Set<string>();
  for (const n of graph.nodes) if (n.domain !== '' && n.domain !== 'ai.onnx') domains.add(n.domain);
  return [{ domain: '', version: graph.opset }, ...[...domains].sort().map((domain) => ({ domain, version: 1 }))];
}

function graphProto(graph: Graph, irVersion: number): GraphProto {
  const { nodes, dropped } = legacyForms(graph);
  const constants = [...graph.constants].filter(([name]) => !dropped.has(name));
  const inputs = [...graph.inputs];
  if (irVersion < 4) {
    // before IR 4 every initializer must also be a graph input
    for (const [name] of constants) if (!inputs.includes(name)) inputs.push(name);
  }
  const typeOf = (name: string): TensorType | undefined => {
    const c = graph.constants.get(name);
    return graph.types.get(name) ?? (c && { dtype: c.dtype, shape: [...c.shape] });
  };
  const listed = new Set([...inputs, ...graph.outputs, ...graph.constants.keys()]);
  const valueInfo: ValueInfoProto[] = [];
  for (const [name, t] of graph.types) if (t && !listed.has(name) && !dropped.has(name)) valueInfo.push(valueInfoProto(name, t));
  return {
    node: nodes.map(nodeProto),
    name: graph.name,
    initializer: constants.map(([name, t]) => tensorProto(t, name)),
    input: inputs.map((name) => valueInfoProto(name, typeOf(name))),
    output: graph.outputs.map((name) => valueInfoProto(name, typeOf(name))),
    valueInfo,
  };
}

function nodeProto(n: Graph['nodes'][number]): NodeProto {
  const p: NodeProto = { input: [...n.inputs], output: [...n.outputs], name: n.name, opType: n.op };
  p.attribute = Object.entries(n.attrs).map(([name, a]) => attributeProto(name, a));
  if (n.domain !== '') p.domain = n.domain;
  return p;
}

/** A tensor value_info; without a known type only the name is written. */
function valueInfoProto(name: string, t: TensorType | undefined): ValueInfoProto {
  if (!t) return { name };
  const dim = t.shape.map((d) => (typeof d === 'number' ? { dimValue: int64(d) } : { dimParam: d }));
  return { name, type: { tensorType: { elemType: onnxCode(t.dtype), shape: { dim } } } };
}

/** Refuses graphs whose constants cannot fit one protobuf message (external data is not written). */
function checkPayloadSize(graph: Graph): void {
  let bytes = 0;
  const count = (t: { dtype: DType; data: { length: number } }) => (bytes += t.data.length * byteSize(t.dtype));
  for (const t of graph.constants.values()) count(t);
  for (const n of graph.nodes) for (const a of Object.values(n.attrs)) if (a.kind === 'tensor') count(a.value);
  if (bytes > MAX_PAYLOAD_BYTES) {
    throw diag(
      'W2005',
      `the graph's constants take ${bytes} bytes, more than one ONNX protobuf file can hold (2 GiB)`,
      `graph '${graph.name}'`,
      'export a smaller graph (e.g. fewer layers) or keep the weights as graph inputs',
    );
  }
}
