/**
 * `wafer inspect <prog.wafer> [--json]`: decodes a program file and prints its disassembly, or with
 * --json its canonical JSON form. A file that cannot be read or decoded is a W5002/W5003/W5012
 * diagnostic naming the file.
 */
import { readFileSync } from 'node:fs';
import { diag } from '../../ir/diagnostics.js';
import { decodeProgram } from '../../ir/program-codec.js';
import { disassemble, programToJson } from '../../ir/program-text.js';

/** Reads a program file; W5002 when it cannot be read. */
export function readProgramFile(file: string): Uint8Array {
  try {
    return readFileSync(file);
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw diag('W5002', `cannot read program file '${file}'${code ? ` (${code})` : ''}`, file, 'check the path');
  }
}

export function inspectCommand(file: string, flags: { json?: boolean }): void {
  const program = decodeProgram(readProgramFile(file), file);
  process.stdout.write(flags.json ? programToJson(program) : disassemble(program));
}
