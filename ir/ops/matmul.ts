/** (being written) */
import type { OpDef } from './registry.js';

export const matmulOps: Record<string, OpDef> = {};
