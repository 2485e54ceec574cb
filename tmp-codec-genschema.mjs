import { readFileSync, writeFileSync } from 'node:fs';
const text = readFileSync('ir/program.proto', 'utf8');
if (/[`\\]|\$\{/.test(text)) throw new Error('escape needed');
writeFileSync('ir/program-schema.ts', `/**
 * The program file schema as a string, so that ir/ (which does no file I/O) can hand it to
 * protobufjs. It is ir/program.proto byte for byte: edit the .proto, copy it here, and
 * test/program-codec.test.ts checks that the two are identical.
 */
export const PROGRAM_SCHEMA = \`${text}\`;
`);
