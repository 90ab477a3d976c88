import { IncomingMessage, maxHeaderSize, Server } from 'node:http';
import { Socket } from 'node:net';
import { Environment } from '@app/config';
import { ErrorBody, errorBody } from './error-body';

/** What the services' routes take; a CONNECT is none of them. */
const ALLOWED_METHODS = 'GET, HEAD, POST, PATCH, DELETE';

/** The socket of a connection, with the response Node is writing on it (Node's own check before it answers a client error). */
type ConnectionSocket = Socket & { _httpMessage?: { _headerSent?: boolean } | null };

/** A parser refusal: its code, its fixed reason text and the bytes it stopped in. */
type ClientError = Error & { code?: string; reason?: unknown; rawPacket?: unknown };

/** A request line whose method is a token (RFC 9110 § 9.1) the parser does not know, not bytes of another protocol (a TLS hello). */
const UNKNOWN_METHOD_LINE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+ /;

/**
 * A request line in HTTP's form with a version other than 1.0 and 1.1 (HTTP/1.2, HTTP/3.0). Only
 * with CRLF: the parser refuses a bare LF after HTTP/1.1 with the same code, and that one is malformed.
 */
const OTHER_VERSION_LINE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+ [^ \r\n]+ HTTP\/(?!1\.[01]\r)\d\.\d\r\n/;

/**
 * An HTTP/2 client with prior knowledge opens with the connection preface, which Node's HTTP/1.1
 * server cannot serve. Answered as RFC 9113 has a server do it: its own SETTINGS frame (empty),
 * then GOAWAY with HTTP_1_1_REQUIRED (0xd), which such clients read as "retry over HTTP/1.1".
 */
const HTTP2_SETTINGS_THEN_GOAWAY = Buffer.from([
  ...[0, 0, 0, 0x4, 0, 0, 0, 0, 0], // SETTINGS: no payload, no flags, stream 0
  ...[0, 0, 8, 0x7, 0, 0, 0, 0, 0], // GOAWAY: 8 bytes, stream 0
  ...[0, 0, 0, 0], // last stream id: none was processed
  ...[0, 0, 0, 0xd], // error code HTTP_1_1_REQUIRED
]);

/**
 * Answers what Node's HTTP parser refuses (a URL or headers over the header size limit, a bad
 * chunk size, Transfer-Encoding beside Content-Length, an unknown method, a header it cannot read)
 * and the headers and request timeouts (slowloris) with the ErrorBody every other error has, where
 * Node wrote a bare `400 Bad Request`, 431 or 408 with no body; and a CONNECT, which Node drops
 * without an answer, with a 405. Either closes the connection: what follows on it cannot be told
 * apart from the rest of the refused request. An unknown method is a 501 and a version other
 * than HTTP/1.0 and 1.1 a 505 (RFC 9110 §§ 15.6.2, 15.6.6), and an HTTP/2 connection preface gets
 * HTTP/2's own refusal, so a client learns what to change rather than that its request was bad.
 */
export function answerClientErrors(server: Server, env: Environment): void {
  server.on('clientError', (error: ClientError, socket: ConnectionSocket) => {
    // As Node's own answer: only where no response has begun on the connection, else a client would read a corrupt one.
    if (!socket.writable || socket._httpMessage?._headerSent) socket.destroy();
    else if (error.code === 'HPE_PAUSED_H2_UPGRADE') socket.end(HTTP2_SETTINGS_THEN_GOAWAY, () => socket.destroy());
    else if (error.code === 'HPE_INVALID_METHOD' && UNKNOWN_METHOD_LINE.test(requestStart(error))) {
      closeWith(socket, errorBody(501, 'the request method is not one this server implements'), [`Allow: ${ALLOWED_METHODS}`]);
    } else closeWith(socket, refusal(error, env));
  });
  server.on('connect', (_request: IncomingMessage, socket: Socket) => {
    // Node no longer watches this socket: an error on it (the client gone) would otherwise be thrown.
    socket.on('error', () => undefined);
    closeWith(socket, errorBody(405, 'CONNECT is not supported: this server is no proxy'), [`Allow: ${ALLOWED_METHODS}`]);
  });
}

/** The first bytes of the refused request, as text (latin1: one character a byte, whatever they are). */
function requestStart(error: ClientError): string {
  return Buffer.isBuffer(error.rawPacket) ? error.rawPacket.toString('latin1', 0, 256) : '';
}

/** The answer to a client error; never the request's text, which a client's log would then hold. */
function refusal(error: ClientError, env: Environment): ErrorBody {
  if (error.code === 'HPE_INVALID_VERSION' && OTHER_VERSION_LINE.test(requestStart(error))) {
    return errorBody(505, 'the HTTP version is not supported: this server speaks HTTP/1.1 (and 1.0)');
  }
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
