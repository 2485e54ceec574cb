/**
 * The ONNX frontend: ONNX model bytes → graph IR, plus test-data TensorProto reading and symbolic-dim
 * binding. See docs/frontend-onnx.md for what is imported and each W1xxx diagnostic.
 */
export { importOnnx, MAX_SUPPORTED_OPSET, type ImportOptions } from './import.js';
export { readTensorProto, DEFAULT_MAX_ELEMENTS } from './tensor.js';
export { bindDims, bindDimsFromInputs } from './dims.js';
export type { ImportHost } from '../../host.js';
