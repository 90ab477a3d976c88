import { IncomingMessage, Server, ServerResponse } from 'node:http';

/** Requests whose client waits for `100 Continue` before it sends the body. */
const awaitingContinue = new WeakSet<IncomingMessage>();

/**
 * Node answers `Expect: 100-continue` with `100 Continue` before any handler runs, so a client
 * without a valid key, or with a body over BODY_LIMIT_BYTES or not JSON, was told to send the body
 * it would then be refused (401, 413, 415) for. With this, such a request goes through the
 * pipeline like any other, and `100 Continue` is sent only when its body is about to be read
 * (continueBody: whatever reads a request body must call it first, as JsonBodyGuard does, or a
 * client that waits for the 100 waits out the request timeout); a request refused before that gets its answer alone, with `Connection: close`,
 * as the body has not arrived.
 */
export function deferContinue(server: Server): void {
  server.on('checkContinue', (request: IncomingMessage, response: ServerResponse) => {
    awaitingContinue.add(request);
    server.emit('request', request, response);
  });
}

/** Sends `100 Continue`, once, if the client waits for it: call just before reading the request's body. */
export function continueBody(request: IncomingMessage, response: ServerResponse): void {
  if (awaitingContinue.delete(request)) response.writeContinue();
}
