/**
 * The `wafer` command: thin wiring of compiler/ and runtime/ with commander. All file I/O of the
 * toolchain happens here (or behind compiler/host.ts). Diagnostics are printed and exit with code 1;
 * an internal error (a bug) exits with code 2.
 */
import { Command, Option } from 'commander';
import { pathToFileURL } from 'node:url';
import { DiagnosticError, formatDiagnostic } from '../ir/diagnostics.js';
import { CliExit } from './exit.js';
import { compileCommand } from './commands/compile.js';
import { conformanceCommand } from './commands/conformance.js';
import { evalCommand } from './commands/eval.js';
import { importCommand } from './commands/import.js';
import { inspectCommand } from './commands/inspect.js';
import { llmCommand } from './commands/llm.js';
import { opsCommand } from './commands/ops.js';
import { runCommand } from './commands/run.js';
import { targetsCommand } from './commands/targets.js';

export { CliExit };

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').filter(Boolean)];
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('wafer')
    .description('compile neural-network graphs for wafer-scale meshes, and emulate them')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  const passOptions = (c: Command) =>
    c
      .option('--dim <name=value>', 'bind a symbolic input dim (repeatable)', collect, [])
      .option('--print-ir-before <passes>', 'print the IR before these passes (comma list or all)', collect)
      .option('--print-ir-after <passes>', 'print the IR after these passes (comma list or all)', collect)
      .option('--dump-dir <dir>', 'write the IR before/after the printed passes into files in DIR instead of stdout')
      .option('--time-passes', 'print the wall time of each pass')
      .option('--no-verify', 'do not verify the IR after each pass');

  passOptions(
    program
      .command('import')
      .description('import an ONNX model, run the graph passes and print the graph IR')
      .argument('<model>', 'model.onnx file')
      .option('-o, --output <file>', 'write the IR to FILE instead of stdout')
      .option('--no-passes', 'print the IR as imported, before any pass'),
  ).action(importCommand);

  passOptions(
    program
      .command('compile')
      .description('compile an ONNX model into a wafer program for a target mesh')
      .argument('<model>', 'model.onnx file')
      .requiredOption('--target <spec>', 'target: a preset (wse2, wse3), mesh:WxH, a .json file of overrides, or smallest[:<spec>] (the smallest square mesh of those cores)')
      .requiredOption('-o, --output <file>', 'program file to write (.wafer)')
      .option('--dtype <type>', 'SRAM element type of float tensors: f32 or f16')
      .option('--layout <mode>', 'auto (default), single (single-core ops) or distributed (block layouts over a square region)')
      .option('--gemm <algorithm>', 'GEMM of distributed MatMuls: meshgemm, cannon, summa or auto (default)')
      .option('--allreduce <algorithm>', 'allreduce of distributed reductions and Softmax: ktree, chain, ring or auto (default)')
      .option('--no-fuse', 'do not fuse chains of elementwise ops (the fuse pass)'),
  ).action(compileCommand);

  passOptions(
    program
      .command('eval')
      .description('evaluate a model with the reference semantics on given inputs and compare with expected outputs')
      .argument('<model>', 'model.onnx file')
      .requiredOption('--inputs <dir>', 'folder with input_N.pb (and optionally output_N.pb to compare with)'),
  ).action(evalCommand);

  program
    .command('conformance')
    .description('run ONNX backend-layout test folders through import and reference evaluation')
    .argument('<dirs...>', 'test case folders, or folders holding them')
    .option('--json <file>', 'write the per-case results as JSON')
    .option('--filter <regex>', 'only cases whose folder name matches')
    .option('--baseline <file>', 'fail when a case listed in FILE (one name per line) does not pass')
    .option('--update-baseline', 'add the cases that now pass to the --baseline file (it only grows)')
    .option('--jobs <n>', 'worker threads (default: CPU count)')
    .option('--backend <name>', 'reference (default: import + graph passes + reference evaluation) or emulator (compile + emulate)')
    .option('--target <spec>', 'target of the emulator backend (default mesh:4x4)')
    .addOption(new Option('--table', 'print the per-op-type table').default(true))
    .option('--no-table', 'do not print the per-op-type table')
    .option('--verbose', 'print every case, not just the ones that do not pass')
    .action(conformanceCommand);

  program
    .command('llm')
    .description('plan a decoder LLM from a Hugging Face config.json and print its predicted speed, or run a small one token by token')
    .argument('<config>', 'config.json (LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM or GPT2LMHeadModel)')
    .option('--target <spec>', 'preset, mesh:WxH or JSON file', 'wse2')
    .option('--prompt <L>', 'prompt tokens (default 2048; with --tokens, their count)')
    .option('--generate <G>', 'generated tokens: the prefill yields the first, G − 1 decode steps the rest', '128')
    .option('--prefill-cores <N>', 'side of the square region of each prefill stage (default: searched)')
    .option('--decode-cores <N>', 'side of the square region of each decode stage (default: searched)')
    .option('--kv <scheme>', 'KV cache: shift (default, balanced over the rows) or concat (appended at the end)')
    .option('--dtype <type>', 'f16 (default) or f32')
    .option('--json <file>', 'write the figures as JSON')
    .option('--emulate', 'emulate one layer of each phase (timing-only) at the planned core counts and check measured == predicted cycles')
    .option('--emulate-max <n>', 'with --emulate: the largest layer to emulate, in core-instructions (default 500000000, about 3 minutes)')
    .option('--generate-text', 'run the config functionally on the emulator: prefill, then greedy decode steps up to --generate tokens, checked against the reference')
    .option('--weights <path>', 'with --generate-text: a .safetensors file, an index or a folder (default: seeded weights)')
    .option('--seed <n>', 'with --generate-text: seed of the weights and default prompt (default 0)')
    .option('--tokens <ids>', 'with --generate-text: prompt token ids, comma separated (default: --prompt ids from the seed)')
    .action(llmCommand);

  program.command('ops').description('list the supported graph ops').action(opsCommand);

  program
    .command('run')
    .description('emulate a program and print its run report')
    .argument('<program>', 'prog.wafer file')
    .option('--inputs <dir>', 'folder with input_N.pb (and optionally output_N.pb to compare with)')
    .option('--timing-only', 'time the program without computing values')
    .option('--json <file>', 'write the run report as JSON')
    .option('--trace <file>', 'write a Perfetto trace')
    .option('--trace-cores <n>', 'cores sampled for the trace (default 16)')
    .option('--check', 'exit 1 when an output differs from output_N.pb or from the reference evaluation of the embedded source graph, or measured timing diverges from the prediction')
    .action(runCommand);

  program
    .command('inspect')
    .description('print a readable disassembly of a wafer program file')
    .argument('<program>', 'program file (.wafer)')
    .option('--json', 'print the decoded program as canonical JSON')
    .action(inspectCommand);

  program
    .command('targets')
    .description('print target machines and their figures')
    .argument('[spec]', 'preset (wse2, wse3), mesh:WxH, or a .json file of overrides')
    .option('--json', 'print the target as JSON (a valid override file)')
    .action(targetsCommand);
  return program;
}

/** Runs the CLI; returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CliExit) return e.exitCode;
    if (e instanceof DiagnosticError) {
      for (const d of e.diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
      return 1;
    }
    const ce = e as { code?: string; exitCode?: number };
    if (typeof ce.code === 'string' && ce.code.startsWith('commander.')) {
      return ce.code === 'commander.helpDisplayed' || ce.code === 'commander.version' ? 0 : (ce.exitCode ?? 1);
    }
    const err = e instanceof Error ? e : new Error(String(e));
    process.stderr.write(`internal error (a bug in wafer, please report it): ${err.message}\n${err.stack ?? ''}\n`);
    return 2;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv).then((code) => process.exit(code));
}
