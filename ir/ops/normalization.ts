/** (being written) */
import type { OpDef } from './registry.js';

export const normalizationOps: Record<string, OpDef> = {};
