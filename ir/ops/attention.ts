/** (being written) */
import type { OpDef } from './registry.js';

export const attentionOps: Record<string, OpDef> = {};
