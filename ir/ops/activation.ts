/** (being written) */
import type { OpDef } from './registry.js';

export const activationOps: Record<string, OpDef> = {};
