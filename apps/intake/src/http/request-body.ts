import { IncomingMessage } from 'node:http';

/**
 * The 413's message, from JsonBodyGuard or body-parser alike: the limit by its variable and in
 * bytes, so that the client knows how much less to send and the operator what to raise.
 */
export function bodyTooLargeMessage(limitBytes: number): string {
  return `the request body is over BODY_LIMIT_BYTES (${limitBytes} bytes)`;
}

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
