import { IncomingMessage, maxHeaderSize, Server } from 'node:http';
import { Socket } from 'node:net';
import { Environment } from '@app/config';
import { ErrorBody, errorBody } from './error-body';

/** What the services' routes take; a CONNECT is none of them. */
const ALLOWED_METHODS = 'GET, HEAD, POST, PATCH, DELETE';

/** The socket of a connection, with the response Node is writing on it (Node's own check before it answers a client error). */
type ConnectionSocket = Socket & { _httpMessage?: { _headerSent?: boolean } | null };

/**
 * Answers what Node's HTTP parser refuses (a URL or headers over the header size limit, a bad
 * chunk size, Transfer-Encoding beside Content-Length, an unknown method, a header it cannot read)
 * and the headers and request timeouts (slowloris) with the ErrorBody every other error has, where
 * Node wrote a bare `400 Bad Request`, 431 or 408 with no body; and a CONNECT, which Node drops
 * without an answer, with a 405. Either closes the connection: what follows on it cannot be told
 * apart from the rest of the refused request.
 */
export function answerClientErrors(server: Server, env: Environment): void {
  server.on('clientError', (error: Error & { code?: string; reason?: unknown }, socket: ConnectionSocket) => {
    // As Node's own answer: only where no response has begun on the connection, else a client would read a corrupt one.
    if (socket.writable && !socket._httpMessage?._headerSent) closeWith(socket, refusal(error, env));
    else socket.destroy();
  });
  server.on('connect', (_request: IncomingMessage, socket: Socket) => {
    // Node no longer watches this socket: an error on it (the client gone) would otherwise be thrown.
    socket.on('error', () => undefined);
    closeWith(socket, errorBody(405, 'CONNECT is not supported: this server is no proxy'), [`Allow: ${ALLOWED_METHODS}`]);
  });
}

/** The answer to a client error; never the request's text, which a client's log would then hold. */
function refusal(error: { code?: string; reason?: unknown }, env: Environment): ErrorBody {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      // Node's limit (--max-http-header-size): the services set none of their own.
      return errorBody(431, `the request line and headers are over ${maxHeaderSize} bytes`);
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return errorBody(413, 'the chunk extensions of the body are too large');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return errorBody(
        408,
        `the request did not arrive in time: its headers within ${env.HTTP_HEADERS_TIMEOUT_MS} ms, all of it within ${env.HTTP_REQUEST_TIMEOUT_MS} ms`,
      );
    default:
      // The parser's reasons are fixed texts ("Invalid method encountered"), never a piece of the request.
      return errorBody(400, `the request is not valid HTTP/1.1${typeof error.reason === 'string' ? `: ${error.reason}` : ''}`);
  }
}

/** Writes a whole HTTP/1.1 response with the ErrorBody and ends the connection once it is flushed. */
function closeWith(socket: Socket, body: ErrorBody, headers: string[] = []): void {
  const text = JSON.stringify(body);
  const head = [
    `HTTP/1.1 ${body.statusCode} ${body.error}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(text)}`,
    'Cache-Control: no-store',
    'Connection: close',
    ...headers,
  ];
  socket.end(`${head.join('\r\n')}\r\n\r\n${text}`, () => socket.destroy());
}
