/**
 * The compiler's only door to the file system. Frontends read side files (ONNX external data)
 * through an ImportHost so that compiler/ stays free of direct I/O and tests can supply files from
 * memory. `nodeHost` is the node:fs implementation the CLI passes in.
 */
import { closeSync, fstatSync, openSync, readFileSync, readSync, statSync } from 'node:fs';

export interface ImportHost {
  /** The whole file. Throws when it cannot be read. */
  readFile(path: string): Uint8Array;
  /** Size in bytes. Throws when the file does not exist. */
  fileSize(path: string): number;
  /**
   * Optional: `length` bytes at `offset` (callers have checked the range against fileSize). Lets
   * large external-data files be read tensor by tensor instead of whole.
   */
  readRange?(path: string, offset: number, length: number): Uint8Array;
}

export const nodeHost: ImportHost = {
  readFile(path: string): Uint8Array {
    return readFileSync(path);
  },
  fileSize(path: string): number {
    const st = statSync(path);
    if (!st.isFile()) throw new Error(`${path} is not a regular file`);
    return st.size;
  },
  readRange(path: string, offset: number, length: number): Uint8Array {
    const fd = openSync(path, 'r');
    try {
      if (offset + length > fstatSync(fd).size) throw new Error(`${path}: range beyond end of file`);
      const out = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const n = readSync(fd, out, done, length - done, offset + done);
        if (n <= 0) throw new Error(`${path}: unexpected end of file`);
        done += n;
      }
      return out;
    } finally {
      closeSync(fd);
    }
  },
};
