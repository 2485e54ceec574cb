/**
 * Registers every op family. Importing this module makes the registry complete.
 */
import { registerOps } from './registry.js';
import { activationOps } from './activation.js';
import { attentionOps } from './attention.js';
import { convOps } from './conv.js';
import { elementwiseOps } from './elementwise.js';
import { fusedOps } from './fused.js';
import { indexingOps } from './indexing.js';
import { matmulOps } from './matmul.js';
import { normalizationOps } from './normalization.js';
import { poolOps } from './pool.js';
import { reduceOps } from './reduce.js';
import { shapeOps } from './shape.js';

registerOps(elementwiseOps);
registerOps(activationOps);
registerOps(shapeOps);
registerOps(indexingOps);
registerOps(matmulOps);
registerOps(normalizationOps);
registerOps(reduceOps);
registerOps(attentionOps);
registerOps(convOps);
registerOps(poolOps);
registerOps(fusedOps);

export { getOp, supportedOps, OpError } from './registry.js';
export type { OpDef, OpInfo, InferInput } from './registry.js';
