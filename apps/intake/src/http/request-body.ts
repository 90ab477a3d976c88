import { IncomingMessage } from 'node:http';

/** Whether the request says it carries a body (a length above 0, or a chunked one). */
export function hasBody(request: Pick<IncomingMessage, 'headers'>): boolean {
  return Number(request.headers['content-length'] ?? 0) > 0 || request.headers['transfer-encoding'] !== undefined;
}

/**
 * Whether part of the request's body has yet to arrive: an answer given now (a refusal before the
 * body was read) should close the connection, or Node would read the rest of the body, up to any
 * size, to keep the connection alive.
 */
export function bodyStillArriving(request: Pick<IncomingMessage, 'headers' | 'complete'>): boolean {
  return hasBody(request) && !request.complete;
}

/**
 * Levels of arrays and objects a JSON body may nest: far more than any body of the API holds (a
 * mission's payload may nest 8 levels, under 2 of the body), far less than the ~1,400 at which
 * class-transformer's recursion overflows the stack (a 500 for a 4 KB body).
 */
export const MAX_BODY_DEPTH = 32;

/** Whether a parsed JSON value nests arrays and objects deeper than `maxDepth` levels (walked without recursion). */
export function nestsDeeperThan(value: unknown, maxDepth: number): boolean {
  const pending: [unknown, number][] = [[value, 1]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [node, depth] = next;
    if (typeof node !== 'object' || node === null) continue;
    if (depth > maxDepth) return true;
    for (const child of Object.values(node)) if (typeof child === 'object' && child !== null) pending.push([child, depth + 1]);
  }
  return false;
}

/** The character codes the depth scan reads: `"`, `\\`, `[`, `{`, `]`, `}` (each one byte in UTF-8). */
const CODE = { quote: 0x22, backslash: 0x5c, openBracket: 0x5b, openBrace: 0x7b, closeBracket: 0x5d, closeBrace: 0x7d } as const;

/**
 * Whether JSON text (a string, or UTF-8 bytes) opens arrays and objects deeper than `maxDepth`
 * levels, read before it is parsed: one pass over the text, brackets inside strings not counted.
 * Parsing a body nested thousands deep with a reviver overflows the stack, so its depth is told
 * first. Text that is not well-formed JSON is left to the parser; this only counts.
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
