/**
 * The wafer library API: `import { ... } from 'wafer'`. The CLI is a thin layer over these.
 */
export * from './ir/dtype.js';
export { Tensor, sizeOf, stridesOf } from './ir/tensor.js';
export * from './ir/graph.js';
export * from './ir/diagnostics.js';
export { evaluateGraph, type EvaluateOptions } from './ir/evaluate.js';
export { getOp, supportedOps, OpError, type OpDef, type OpInfo, type InferInput } from './ir/ops/index.js';
export { printGraph, parseGraph } from './ir/text.js';
export { verifyGraph, assertVerified } from './ir/verify.js';
export { importOnnx, readTensorProto, bindDims, bindDimsFromInputs, type ImportOptions } from './compiler/frontend/onnx/index.js';
export { nodeHost, type ImportHost } from './compiler/host.js';
export { runPasses, type GraphPass, type PassContext, type PipelineOptions } from './compiler/pass-manager.js';
export { GRAPH_PASSES } from './compiler/pipeline.js';
