import onnxPkg from 'onnx-proto';
import { readFileSync } from 'node:fs';
const { onnx } = onnxPkg;
const m = onnx.ModelProto.decode(readFileSync('/work/shared/corpus/models/tf_fusion__gelu_opset20/model.onnx'));
console.log(JSON.stringify(m.graph!.input), JSON.stringify(m.graph!.valueInfo));
