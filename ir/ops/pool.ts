/** (being written) */
import type { OpDef } from './registry.js';

export const poolOps: Record<string, OpDef> = {};
