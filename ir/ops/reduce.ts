/** (being written) */
import type { OpDef } from './registry.js';

export const reduceOps: Record<string, OpDef> = {};
