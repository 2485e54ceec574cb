/** Thrown by a command to end the CLI with an exit code after it has printed its own report. */
export class CliExit extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
  }
}
