/** (being written) */
import type { OpDef } from './registry.js';

export const shapeOps: Record<string, OpDef> = {};
