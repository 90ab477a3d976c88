/** The character codes the depth scan reads: `"`, `\\`, `[`, `{`, `]`, `}` (each one byte in UTF-8). */
const CODE = { quote: 0x22, backslash: 0x5c, openBracket: 0x5b, openBrace: 0x7b, closeBracket: 0x5d, closeBrace: 0x7d } as const;
const OPENERS = [CODE.openBrace, CODE.openBracket] as const;

/**
 * Whether JSON text (a string, or UTF-8 bytes) opens arrays and objects deeper than `maxDepth`
 * levels, read before it is parsed: one pass over the text, brackets inside strings not counted.
 * Parsing a body nested thousands deep with a reviver overflows the stack, and so does
 * JSON.stringify or any recursive walk of what JSON.parse made of it, so its depth is told first
 * (the intake's HTTP bodies and stream submissions, `replay import`'s lines). Text that is not well-formed JSON is left to
 * the parser; this only counts.
 */
export function jsonTextNestsDeeperThan(text: string | Uint8Array, maxDepth: number): boolean {
  if (opensAtMost(text, maxDepth)) return false;
  return typeof text === 'string'
    ? nestsDeeper(
        text,
        maxDepth,
        (i) => text.charCodeAt(i),
        (from) => text.indexOf('"', from),
      )
    : nestsDeeper(
        text,
        maxDepth,
        (i) => text[i],
        (from) => text.indexOf(CODE.quote, from),
      );
}

/**
 * The scan, over character codes. A string is jumped over with `indexOf` to its closing quote (one
 * after an even run of backslashes), not read code by code: most of a message or a body is text
 * in strings, and the native search is several times faster than a loop over it. Only for text
 * that opens more than `maxDepth` arrays and objects in all (brackets in strings counted too,
 * opensAtMost): any other cannot nest deeper, and verify and rebuild hold every event of the log
 * to the limit.
 */
function nestsDeeper(text: { length: number }, maxDepth: number, codeAt: (i: number) => number | undefined, nextQuote: (from: number) => number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i += 1) {
    const code = codeAt(i);
    if (code === CODE.quote) {
      i = closingQuote(i, codeAt, nextQuote);
      if (i < 0) return false;
    } else if (code === CODE.openBracket || code === CODE.openBrace) {
      depth += 1;
      if (depth > maxDepth) return true;
    } else if (code === CODE.closeBracket || code === CODE.closeBrace) depth -= 1;
  }
  return false;
}

/**
 * Whether the text holds at most `max` of `[` and `{` together, wherever they are: one native
 * search per bracket, with no closure made (it runs for every event verify and rebuild read).
 */
function opensAtMost(text: string | Uint8Array, max: number): boolean {
  let opened = 0;
  for (const code of OPENERS) {
    if (typeof text === 'string') {
      const char = String.fromCharCode(code);
      for (let at = text.indexOf(char); at >= 0; at = text.indexOf(char, at + 1)) if (++opened > max) return false;
    } else {
      for (let at = text.indexOf(code); at >= 0; at = text.indexOf(code, at + 1)) if (++opened > max) return false;
    }
  }
  return true;
}

/** The index of the quote that closes the string opened at `open`; -1 when none does. */
function closingQuote(open: number, codeAt: (i: number) => number | undefined, nextQuote: (from: number) => number): number {
  for (let at = nextQuote(open + 1); at >= 0; at = nextQuote(at + 1)) {
    let backslashes = 0;
    while (codeAt(at - 1 - backslashes) === CODE.backslash) backslashes += 1;
    if (backslashes % 2 === 0) return at;
  }
  return -1;
}
