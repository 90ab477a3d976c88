import { isUtf8 } from 'node:buffer';
import {
  BadRequestException,
  CanActivate,
  ExecutionContext,
  Inject,
  Injectable,
  PayloadTooLargeException,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import { json, Request, Response } from 'express';
import { Environment } from '@app/config';
import { jsonTextNestsDeeperThan, MAX_BODY_DEPTH, rejectForbiddenKeys } from '@app/mission';
import { continueBody, ENVIRONMENT } from '@app/runtime';
import { bodyTooLargeMessage, hasBody, nestsDeeperThan } from './request-body';
import { bodyProblemDetails } from './request-validation.pipe';

const TOO_DEEP = `the JSON body nests deeper than ${MAX_BODY_DEPTH} levels`;

function badBody(message: string): BadRequestException {
  return new BadRequestException({ message, details: bodyProblemDetails(message) });
}

function tooLarge(limitBytes: number): PayloadTooLargeException {
  return new PayloadTooLargeException(bodyTooLargeMessage(limitBytes));
}

/**
 * Rejects as soon as more than `limitBytes` of the request's body have arrived. body-parser
 * refuses such a body (a chunked one, which has no Content-Length to refuse it by) at that point
 * too, but answers only once it has read off the rest, which a client may keep sending until
 * HTTP_REQUEST_TIMEOUT_MS, or never end. This 413 goes at once, with `Connection: close` as the
 * body is still arriving, and Node closes the connection once it is sent.
 */
function refusalPastLimit(request: Request, limitBytes: number): { refused: Promise<never>; stop: () => void } {
  let received = 0;
  let count: (chunk: Buffer) => void = () => undefined;
  const refused = new Promise<never>((_resolve, reject) => {
    count = (chunk) => {
      received += chunk.length;
      if (received > limitBytes) reject(tooLarge(limitBytes));
    };
  });
  request.on('data', count);
  return { refused, stop: () => request.off('data', count) };
}

/** Thrown by the parser's verify step, before parsing, with the 400's message: body-parser passes it on as the same object. */
class BodyTextRefusedError extends Error {}

/** The requests whose body text checkBodyText measured: only the others need their parsed body walked. */
const depthToldFromText = new WeakSet<object>();

/** A decoder for the charset that throws on bytes not valid in it; null when Node has none (`utf-32le`). */
function fatalDecoder(encoding: string): InstanceType<typeof TextDecoder> | null {
  try {
    return new TextDecoder(encoding, { fatal: true });
  } catch {
    return null;
  }
}

/**
 * Checks the body's bytes before they are decoded and parsed:
 * - they must be text in the body's charset: body-parser decodes with U+FFFD for every invalid
 *   sequence, so a title sent as the bytes `x\xff\xfey` was stored as "x\uFFFD\uFFFDy", as if the
 *   client had written that;
 * - the body's depth, told from its text before JSON.parse: parsing one nested thousands deep with
 *   the reviver overflows the stack, which body-parser reports as malformed JSON. A body in another
 *   charset (`utf-16le`) is decoded for it when Node can; else (`utf-32le`) the parsed body is
 *   checked after, and its text is left to body-parser.
 */
function checkBodyText(request: object, _response: unknown, buffer: Buffer, encoding: string): void {
  let text: string | Uint8Array = buffer;
  if (encoding.toLowerCase() === 'utf-8') {
    if (!isUtf8(buffer)) throw new BodyTextRefusedError('the request body is not valid UTF-8');
  } else {
    const decoder = fatalDecoder(encoding);
    if (!decoder) return;
    try {
      text = decoder.decode(buffer);
    } catch {
      throw new BodyTextRefusedError(`the request body is not valid ${encoding}`);
    }
  }
  if (jsonTextNestsDeeperThan(text, MAX_BODY_DEPTH)) throw new BodyTextRefusedError(TOO_DEEP);
  depthToldFromText.add(request);
}

/**
 * Reads and parses the request body, after the API key, its role and the rate limit are checked
 * (register it as the last APP_GUARD): a caller whose key may not call the route gets its 403, not
 * a 400, 413 or 415 about a body nothing reads, and costs no parsing. Bodies are uncompressed JSON
 * or nothing: any other content type, or any Content-Encoding but identity, is a 415 before
 * parsing. Compressed bodies are refused rather than inflated: bodies are small, and inflating
 * would let a few KB expand to BODY_LIMIT_BYTES of work. Parser failures (malformed JSON, too
 * large) are thrown, and the error filter words them; a body that is not valid UTF-8 (or not valid
 * in the charset it names), or nested deeper than MAX_BODY_DEPTH, is a 400 saying so, told from
 * its bytes before it is parsed.
 */
@Injectable()
export class JsonBodyGuard implements CanActivate {
  private readonly parse: (request: Request, response: Response) => Promise<void>;
  private readonly limitBytes: number;

  constructor(@Inject(ENVIRONMENT) env: Environment) {
    this.limitBytes = env.BODY_LIMIT_BYTES;
    const parser = json({
      limit: env.BODY_LIMIT_BYTES,
      strict: true,
      type: 'application/json',
      inflate: false,
      reviver: rejectForbiddenKeys,
      verify: checkBodyText,
    });
    this.parse = (request, response) => new Promise((resolve, reject) => parser(request, response, (error?: unknown) => (error ? reject(error) : resolve())));
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    // Stream handlers share the global guards; their messages are parsed by the transport.
    if (context.getType() !== 'http') return true;
    const http = context.switchToHttp();
    const request = http.getRequest<Request>();
    if (!hasBody(request)) return true;
    if (!request.is('application/json')) throw new UnsupportedMediaTypeException('request bodies must be application/json');
    const encoding = (request.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    if (encoding !== 'identity' && encoding !== '') {
      throw new UnsupportedMediaTypeException('request bodies must not be compressed: Content-Encoding must be identity or absent');
    }
    // Refused before reading: body-parser would read off the whole announced body before its own 413.
    if (Number(request.headers['content-length'] ?? 0) > this.limitBytes) throw tooLarge(this.limitBytes);
    const response = http.getResponse<Response>();
    // Only now, after every check that needs no body, is a client that waits for it told to send the body.
    continueBody(request, response);
    const parsing = this.parse(request, response);
    const pastLimit = refusalPastLimit(request, this.limitBytes);
    try {
      await Promise.race([parsing, pastLimit.refused]);
    } catch (error) {
      throw error instanceof BodyTextRefusedError ? badBody(error.message) : error;
    } finally {
      pastLimit.stop();
    }
    // One walk of the parsed body only where its text could not be measured: not on every create.
    if (!depthToldFromText.has(request) && nestsDeeperThan(request.body, MAX_BODY_DEPTH)) throw badBody(TOO_DEEP);
    return true;
  }
}
