/** The character codes the depth scan reads: `"`, `\\`, `[`, `{`, `]`, `}` (each one byte in UTF-8). */
const CODE = { quote: 0x22, backslash: 0x5c, openBracket: 0x5b, openBrace: 0x7b, closeBracket: 0x5d, closeBrace: 0x7d } as const;

/**
 * Whether JSON text (a string, or UTF-8 bytes) opens arrays and objects deeper than `maxDepth`
 * levels, read before it is parsed: one pass over the text, brackets inside strings not counted.
 * Parsing a body nested thousands deep with a reviver overflows the stack, and so does
 * JSON.stringify or any recursive walk of what JSON.parse made of it, so its depth is told first
 * (the intake's HTTP bodies, every stream message's data). Text that is not well-formed JSON is
 * left to the parser; this only counts.
 */
export function jsonTextNestsDeeperThan(text: string | Uint8Array, maxDepth: number): boolean {
  const codeAt = typeof text === 'string' ? (i: number) => text.charCodeAt(i) : (i: number) => text[i];
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const code = codeAt(i);
    if (inString) {
      if (code === CODE.backslash) i += 1;
      else if (code === CODE.quote) inString = false;
    } else if (code === CODE.quote) inString = true;
    else if (code === CODE.openBracket || code === CODE.openBrace) {
      depth += 1;
      if (depth > maxDepth) return true;
    } else if (code === CODE.closeBracket || code === CODE.closeBrace) depth -= 1;
  }
  return false;
}
