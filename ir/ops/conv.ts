/** (being written) */
import type { OpDef } from './registry.js';

export const convOps: Record<string, OpDef> = {};
