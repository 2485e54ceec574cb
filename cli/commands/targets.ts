/**
 * `wafer targets [spec] [--json]`: prints target machines with every figure, its unit, and the
 * figures derived from them (cores, total SRAM, peak FLOP/s, fabric bandwidth). Without a spec it
 * prints the presets and an example mesh:8x8; with one (preset, mesh:WxH or a .json file of
 * overrides) it prints that target, which is how a user checks a JSON description before using it.
 */
import { readFileSync } from 'node:fs';
import type { Target } from '../../ir/target.js';
import { describeDerived, describeTarget, parseTargetSpec, resolveTarget, TARGET_PRESETS } from '../../ir/target-presets.js';

const EXAMPLE_MESH = 'mesh:8x8';

export function targetsCommand(spec: string | undefined, flags: { json?: boolean }): void {
  const targets = spec === undefined
    ? [...TARGET_PRESETS, EXAMPLE_MESH].map(resolveTarget)
    : [parseTargetSpec(spec, (path) => readFileSync(path, 'utf8'))];
  if (flags.json) {
    const value: Target | Target[] = spec === undefined ? targets : targets[0];
    process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    return;
  }
  const blocks = targets.map(formatTarget);
  let text = blocks.join('\n');
  if (spec === undefined) {
    text += `\nAny field can be overridden from a JSON file: wafer targets my-chip.json (docs/targets.md).\n`;
  }
  process.stdout.write(text);
}

function formatTarget(t: Target): string {
  const lines = [`target ${t.name}`, ...describeTarget(t).map((l) => `  ${l}`), '  derived:', ...describeDerived(t).map((l) => `    ${l}`)];
  return `${lines.join('\n')}\n`;
}
