/**
 * The elementwise op family: every ONNX op whose output element depends only on the input elements at
 * the same (broadcast) position, except the activations (activation.ts). The definitions live in the
 * elementwise-*.ts files by kind; this module only assembles the table the registry imports.
 */
import type { OpDef } from './registry.js';
import { binaryOps } from './elementwise-binary.js';
import { mathOps } from './elementwise-math.js';
import { miscOps } from './elementwise-misc.js';

export const elementwiseOps: Record<string, OpDef> = { ...mathOps, ...binaryOps, ...miscOps };
