/**
 * Lexer of the graph IR text form: turns the text into tokens on demand, so the parser can switch
 * to raw scanning for `hex:` payloads (tens of MB) without tokenizing them. Every error is a W2004
 * diagnostic located at `line L, column C` (1-based; columns count UTF-16 code units).
 */
import { DiagnosticError } from './diagnostics.js';
import { isHexCode } from './text-tensor.js';

export type TokenKind =
  | 'word' // keywords, op names, dtypes, kinds, dim symbols, attribute names, `_`, nan, inf
  | 'value' // %name or %"name"; text is the name
  | 'at' // @name or @"name"; text is the name
  | 'string' // "..." ; text is the decoded string
  | 'number' // -?digits[.digits][e[+-]digits] or -inf (bare inf and nan are words); text is the literal
  | 'punct' // one of { } ( ) [ ] , = : < > ?
  | 'eof';

export interface Token {
  kind: TokenKind;
  text: string;
  pos: number;
}

const PUNCT = new Set(['{', '}', '(', ')', '[', ']', ',', '=', ':', '<', '>', '?']);
const WORD_START = /[A-Za-z_]/y;
const WORD = /[A-Za-z_][A-Za-z0-9_.]*/y;
const NAME = /[A-Za-z0-9_.:/-]+/y;
const NUMBER = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|-inf(?![A-Za-z0-9_.])/y;
const WORD_CHAR = /[A-Za-z0-9_.]/;

export const GRAMMAR_HINT = 'the grammar of the IR text is in docs/ir.md';

export class Lexer {
  pos = 0;
  constructor(readonly src: string) {}

  /** A W2004 parse error at source offset `pos`. */
  error(message: string, pos: number, hint: string = GRAMMAR_HINT): DiagnosticError {
    let line = 1;
    let lineStart = 0;
    const end = Math.min(pos, this.src.length);
    for (let i = 0; i < end; i++) {
      if (this.src.charCodeAt(i) === 10) {
        line++;
        lineStart = i + 1;
      }
    }
    return new DiagnosticError({ code: 'W2004', message, location: `line ${line}, column ${end - lineStart + 1}`, hint });
  }

  private skipSpace(): void {
    const s = this.src;
    while (this.pos < s.length) {
      const c = s.charCodeAt(this.pos);
      if (c === 32 || c === 9 || c === 10 || c === 13) this.pos++;
      else if (c === 47 && s.charCodeAt(this.pos + 1) === 47) {
        const nl = s.indexOf('\n', this.pos);
        this.pos = nl < 0 ? s.length : nl + 1;
      } else break;
    }
  }

  private match(re: RegExp, at: number): string | undefined {
    re.lastIndex = at;
    const m = re.exec(this.src);
    return m ? m[0] : undefined;
  }

  next(): Token {
    this.skipSpace();
    const s = this.src;
    const pos = this.pos;
    if (pos >= s.length) return { kind: 'eof', text: '', pos };
    const ch = s[pos];
    if (ch === '"') return { kind: 'string', text: this.string(pos), pos };
    if (ch === '%' || ch === '@') {
      this.pos++;
      const name = this.name(pos);
      return { kind: ch === '%' ? 'value' : 'at', text: name, pos };
    }
    if (PUNCT.has(ch)) {
      this.pos++;
      return { kind: 'punct', text: ch, pos };
    }
    const num = this.match(NUMBER, pos);
    if (num !== undefined) {
      this.pos += num.length;
      if (this.pos < s.length && WORD_CHAR.test(s[this.pos])) {
        throw this.error(`malformed number '${num}${s[this.pos]}...'`, pos);
      }
      return { kind: 'number', text: num, pos };
    }
    if (this.match(WORD_START, pos) !== undefined) {
      const word = this.match(WORD, pos) as string;
      this.pos += word.length;
      return { kind: 'word', text: word, pos };
    }
    const cp = String.fromCodePoint(s.codePointAt(pos) as number);
    throw this.error(`unexpected character ${JSON.stringify(cp)}`, pos);
  }

  /** The name after `%` or `@`: a run of safe characters (stopping before `//`) or a JSON string. */
  private name(sigil: number): string {
    const s = this.src;
    if (s[this.pos] === '"') return this.string(this.pos);
    let run = this.match(NAME, this.pos) ?? '';
    const comment = run.indexOf('//');
    if (comment >= 0) run = run.slice(0, comment);
    if (run === '') {
      throw this.error(`expected a name after '${s[sigil]}'`, sigil, 'names are made of letters, digits and _ . : / -, or are JSON strings like %"a b"');
    }
    this.pos += run.length;
    return run;
  }

  /** A JSON string starting at `start` (a '"'); strings do not span lines. */
  private string(start: number): string {
    const s = this.src;
    let i = start + 1;
    for (;;) {
      if (i >= s.length || s.charCodeAt(i) === 10) {
        throw this.error('unterminated string', start, 'a string ends with an unescaped " on the same line');
      }
      const c = s.charCodeAt(i);
      if (c === 34) break;
      i += c === 92 ? 2 : 1;
    }
    const literal = s.slice(start, i + 1);
    this.pos = i + 1;
    try {
      return JSON.parse(literal) as string;
    } catch {
      throw this.error(`invalid string ${literal.length > 40 ? literal.slice(0, 40) + '...' : literal}`, start, 'strings use JSON escapes: \\" \\\\ \\n \\t \\u00e9');
    }
  }

  /** Raw scan of hex digits at the current position (right after `hex:`); returns [start, end). */
  hexRun(): [number, number] {
    const s = this.src;
    const start = this.pos;
    let i = start;
    while (i < s.length && isHexCode(s.charCodeAt(i))) i++;
    this.pos = i;
    return [start, i];
  }
}
