import { stencilProgram } from './bench/emulator.js';
import { resolveTarget } from './ir/target-presets.js';
import { Fabric } from './runtime/streams.js';
import { emulate } from './runtime/emulate.js';
const counts: Record<string, number> = {};
const proto = Fabric.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
for (const k of ['evaluate', 'commit', 'block', 'wake', 'schedule', 'arm', 'postRecv', 'postSend', 'onEvent']) {
  const f = proto[k];
  proto[k] = function (this: unknown, ...a: unknown[]) { counts[k] = (counts[k] ?? 0) + 1; return f.apply(this, a); };
}
const r = emulate(stencilProgram(resolveTarget('mesh:64x64')));
console.log(r.events, r.links.streams, counts);
