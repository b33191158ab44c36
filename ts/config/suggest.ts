/**
 * "Did you mean" hints for misspelt keys and values, and the line of a key in a JSON text, so that a
 * spec error reads `experiments/x.json:7: unknown key 'learning_rat' (did you mean 'learning_rate'?)`.
 */

/** Edit distance (insertions, deletions, substitutions, and swaps of neighbours count 1). */
export function editDistance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  const d: number[][] = Array.from({ length: m + 1 }, (_, i) =>
    Array.from({ length: n + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= m; i++) {
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[m][n];
}

/**
 * The closest candidate to `word`, if it is close enough to be a likely typo: at most a third of the
 * longer word's letters differ (at least 1, so 'lr' -> 'l' style slips count), case ignored; ties go to the
 * first candidate. A candidate that starts with the word (a truncation like 'learning') also counts.
 */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const cl = c.toLowerCase();
    const d = editDistance(w, cl);
    const limit = Math.max(1, Math.floor(Math.max(w.length, cl.length) / 3));
    const ok = d <= limit || (w.length >= 4 && cl.startsWith(w));
    if (ok && d < bestD) {
      best = c;
      bestD = d;
    }
  }
  return best;
}

/**
 * Line numbers (1-based) of every value in a JSON text, by JSON pointer ('' = the whole document,
 * '/model/layers', '/grid/dropout/1'). For an object member the line is that of its key. A syntax
 * error throws a JsonSyntaxError with its line (JSON.parse in Node 20 does not always say where).
 */
export function jsonLines(text: string): Map<string, number> {
  const lines = new Map<string, number>();
  let i = 0;
  let line = 1;
  const fail = (what: string): never => {
    throw new JsonSyntaxError(`${what} at line ${line}`, line);
  };
  const ws = () => {
    while (i < text.length) {
      const c = text[i];
      if (c === '\n') line++;
      else if (c !== ' ' && c !== '\t' && c !== '\r') break;
      i++;
    }
  };
  const expectChar = (c: string) => {
    ws();
    if (text[i] !== c)
      fail(i < text.length ? `expected '${c}', found '${text[i]}'` : `expected '${c}', found the end of the text`);
    i++;
  };
  const str = (): string => {
    if (text[i] !== '"') fail(i < text.length ? `expected a string, found '${text[i]}'` : 'unexpected end of the text');
    const start = i;
    i++; // opening quote
    while (i < text.length && text[i] !== '"' && text[i] !== '\n') i += text[i] === '\\' ? 2 : 1;
    if (text[i] !== '"') fail('unterminated string');
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  /** The members of an object or array at its opening bracket: `member(k)` for each, comma-separated, up to `close`. */
  const members = (close: '}' | ']', member: (k: number) => void): void => {
    i++;
    ws();
    if (text[i] === close) {
      i++;
      return;
    }
    for (let k = 0; ; k++) {
      member(k);
      ws();
      const next = text[i++];
      if (next === close) return;
      if (next !== ',')
        fail(next === undefined ? 'unexpected end of the text' : `expected ',' or '${close}', found '${next}'`);
    }
  };
  const value = (ptr: string, at: number): void => {
    ws();
    if (!lines.has(ptr)) lines.set(ptr, at || line);
    const c = text[i];
    if (c === '{') {
      members('}', () => {
        ws();
        const keyLine = line;
        const key = str();
        expectChar(':');
        value(`${ptr}/${escapePointer(key)}`, keyLine);
      });
    } else if (c === '[') {
      members(']', (k) => value(`${ptr}/${k}`, 0));
    } else if (c === '"') {
      str();
    } else {
      const m = /^(true|false|null|-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?)/.exec(text.slice(i, i + 64));
      if (!m) fail(c === undefined ? 'unexpected end of the text' : `unexpected '${c}'`);
      i += m![0].length;
    }
  };
  value('', 1);
  ws();
  if (i < text.length) fail(`unexpected '${text[i]}' after the end of the document`);
  return lines;
}

export class JsonSyntaxError extends SyntaxError {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
  }
}

export function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** The line of `pointer` or of its nearest ancestor that has one. */
export function lineOf(lines: Map<string, number>, pointer: string): number {
  for (let p = pointer; ; p = p.slice(0, p.lastIndexOf('/'))) {
    const l = lines.get(p);
    if (l !== undefined) return l;
    if (!p) return 1;
  }
}
