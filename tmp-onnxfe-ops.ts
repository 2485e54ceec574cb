import { supportedOps } from './ir/ops/index.js';
console.log(supportedOps().join(' '));
