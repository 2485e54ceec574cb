/** (being written) */
import type { OpDef } from './registry.js';

export const elementwiseOps: Record<string, OpDef> = {};
