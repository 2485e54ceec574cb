/**
 * The op registry: for every supported graph op, its shape/dtype rule (`infer`) and its reference
 * semantics (`evaluate`). This is the single definition of each op: the evaluator, constant folding
 * and shape inference all go through it.
 *
 * Contract for an OpDef:
 * - `infer` receives static input types (and the input's value when it is a compile-time constant,
 *   which data-dependent shapes such as Reshape need) and returns the output types. When a shape
 *   depends on a value that is not constant it throws OpError with code W2003.
 * - `evaluate` receives tensors whose types satisfy `infer`, and returns new tensors (never mutates its
 *   inputs). `undefined` marks an omitted optional input.
 * - Both throw OpError (never a plain Error) for invalid attributes or inputs, so the user sees a
 *   diagnostic with the node's name.
 */
import type { Attrs, StaticType } from '../graph.js';
import type { Tensor } from '../tensor.js';

export interface OpInfo {
  /** Node name, for messages. */
  name: string;
  /** ai.onnx opset of the graph (for the few ops whose semantics changed beyond attribute moves). */
  opset: number;
  /** Number of outputs the node declares (some ops have optional outputs). */
  numOutputs: number;
}

export interface InferInput {
  type: StaticType;
  /** Present when the input's value is known at compile time. */
  value?: Tensor;
}

export interface OpDef {
  infer(inputs: (InferInput | undefined)[], attrs: Attrs, info: OpInfo): StaticType[];
  evaluate(inputs: (Tensor | undefined)[], attrs: Attrs, info: OpInfo): Tensor[];
}

/** A user-facing error raised by an op rule; becomes a diagnostic located at the node. */
export class OpError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

const REGISTRY = new Map<string, OpDef>();

/** Registers op definitions under their ONNX op type (`domain:Op` for non-default domains). */
export function registerOps(defs: Record<string, OpDef>): void {
  for (const [name, def] of Object.entries(defs)) {
    if (REGISTRY.has(name)) throw new Error(`internal: op ${name} registered twice`);
    REGISTRY.set(name, def);
  }
}

function key(op: string, domain: string): string {
  return domain === '' || domain === 'ai.onnx' ? op : `${domain}:${op}`;
}

export function getOp(op: string, domain = ''): OpDef | undefined {
  return REGISTRY.get(key(op, domain));
}

export function supportedOps(): string[] {
  return [...REGISTRY.keys()].sort();
}
