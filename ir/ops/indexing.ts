/** (being written) */
import type { OpDef } from './registry.js';

export const indexingOps: Record<string, OpDef> = {};
