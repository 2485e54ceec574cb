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
// targets, programs, mesh IR
export type { Target } from './ir/target.js';
export { resolveTarget, applyTargetOverrides, parseTargetSpec, describeTarget, TARGET_PRESETS } from './ir/target-presets.js';
export * from './ir/program.js';
export { encodeProgram, decodeProgram } from './ir/program-codec.js';
export { disassemble, programToJson } from './ir/program-text.js';
export * from './ir/program-builder.js';
export * from './ir/mesh.js';
export { printMesh, parseMesh } from './ir/mesh-text.js';
export { verifyMesh, assertMeshVerified } from './ir/mesh-verify.js';
// the compiler back-end and the emulator
export { compile, runBackend, type CompileOptions, type CompileResult } from './compiler/compile.js';
export { smallestSquareMesh, type FitOptions, type FitResult } from './compiler/fit.js';
export { emulate, loadProgram, type EmulateOptions, type LoadedProgram } from './runtime/index.js';
export type * from './runtime/result.js';
export { formatReport, reportJson } from './runtime/report.js';
export { traceJson } from './runtime/trace.js';
// LLMs: config.json → graphs and weights, greedy generation on the emulator
export { parseLlmConfig, llmConfigFromJson, ropeInverseFrequencies, parameterCount, type LlmConfig, type LlmFamily, type RopeScaling } from './compiler/frontend/llm/config.js';
export { buildLlmGraph, LLM_OPSET, type LlmGraphOptions } from './compiler/frontend/llm/graph.js';
export { weightSpecs, resolveWeights, type WeightSpec, type WeightSource } from './compiler/frontend/llm/weights.js';
export { openSafetensors, encodeSafetensors, type SafetensorsSet, type SafetensorsEntry, type SafetensorsDType } from './compiler/frontend/llm/safetensors.js';
export { generateGreedy, type GenerateOptions, type GenerateResult, type GenerateStep } from './cli/llm-generate.js';
export { exportOnnx, type ExportOptions } from './compiler/frontend/onnx/export.js';
export { planLlm, formatPlan, planFigures, decodeLayerSteps, prefillLayerSteps, type LlmPlan, type LlmPlanOptions, type LayerStep } from './compiler/llm/plan.js';
