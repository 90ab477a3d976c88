import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger, MethodNotAllowedException } from '@nestjs/common';
import { Response } from 'express';
import { UnreadableStoredDataError, VersionConflictError } from '@app/event-store';
import { GuestDataError, GuestDataErrorCode, MASTER_KEY_REMEDY, SubjectKeyContendedError, WrongMasterKeyError } from '@app/guest-data';
import { loggedUrl } from '@app/logging';
import { ForbiddenJsonKeyError, IllegalTransitionError, UNAVAILABLE_MARKER } from '@app/mission';
import {
  isRedisOutOfMemory,
  isRedisPassingRefusal,
  isRedisUnreachable,
  REDIS_OUT_OF_MEMORY_MESSAGE,
  REDIS_OUT_OF_MEMORY_RETRY_AFTER_SECONDS,
  REDIS_UNREACHABLE_MESSAGE,
  REDIS_UNREACHABLE_RETRY_AFTER_SECONDS,
} from '@app/redis';
import { ErrorBody, errorBody, NEST_NO_ROUTE, wrongMethodMessage } from '@app/runtime';
import { bodyStillArriving, bodyTooLargeMessage } from './request-body';
import { bodyProblemDetails, NOT_AN_OBJECT_DETAIL } from './request-validation.pipe';

/**
 * Turns every error into an ErrorBody: HTTP exceptions keep their status, an illegal mission
 * transition is a 409, body-parser failures (malformed JSON, too large, a prototype-reaching key)
 * keep theirs, guest data wrapped under a master key this process lacks is a 503 naming the key
 * ids, stored guest data altered is a 500 saying so, a mission's stored data that cannot be read a
 * 409 naming the mission and the remedy, Redis unreachable or out of memory is a 503
 * with Retry-After, and anything else is a 500 whose cause goes to the log, not to the client.
 */
@Catch()
export class ErrorBodyFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    // Nest's no-route 404 for a path the app takes under other methods: the 405, its Allow header set.
    const wrongMethod = wrongMethodMessage(exception, response);
    writeErrorBody(response, wrongMethod ? new MethodNotAllowedException(wrongMethod) : exception);
  }
}

const logger = new Logger('http');

/**
 * Writes the ErrorBody for any error, unless the response was answered already; shared by the Nest
 * filter and the Express error middleware.
 * A refusal before the body was read (no key, a role that may not call the route) closes the
 * connection: Node then drops it after the answer instead of reading the rest of the body.
 */
export function writeErrorBody(response: Response, exception: unknown): void {
  // Answered already (RedisOutageGate's 503 to a request the outage outlasted): the request's late
  // failure, or Nest's late attempt to send its result, has no one left to tell.
  if (response.writableEnded) return;
  const body = toErrorBody(exception);
  if (exception instanceof WrongMasterKeyError) logMasterKeyMismatchOnce(body.message);
  // The outage is in the log already, once (the connection's own report): not a stack per request.
  else if (body.message === REDIS_UNREACHABLE_MESSAGE) response.setHeader('Retry-After', String(REDIS_UNREACHABLE_RETRY_AFTER_SECONDS));
  else if (body.message === REDIS_OUT_OF_MEMORY_MESSAGE) {
    response.setHeader('Retry-After', String(REDIS_OUT_OF_MEMORY_RETRY_AFTER_SECONDS));
    logRedisOutOfMemoryOnce(Date.now());
  }
  // A 409 that no client causes: the operator must hear of it, once per request as no retry mends it.
  else if (exception instanceof UnreadableStoredDataError) logger.warn(`${requestLine(response)}: ${body.message}`);
  // A failed readiness probe says why in its 503, and probes come every few seconds: a stack each
  // time would fill the log for as long as the cause (Redis down, the consumer stopped) lasts.
  else if (body.statusCode >= 500 && !failedReadinessProbe(exception)) {
    logger.error(`${requestLine(response)}: ${exception instanceof Error ? exception.stack : String(exception)}`);
  }
  if (bodyStillArriving(response.req)) response.setHeader('Connection', 'close');
  response.status(body.statusCode).json(body);
}

/**
 * The request an error line is about, named by the filter because the request-scoped logger
 * (pino-http) runs only at debug and trace: its method and url, the query's values left out.
 */
function requestLine(response: Response): string {
  return `${response.req.method} ${loggedUrl(response.req.originalUrl)}`;
}

export function toErrorBody(exception: unknown): ErrorBody {
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const raw = responseFields(exception);
    const details = Array.isArray(raw.details) ? raw.details : Array.isArray(raw.message) ? raw.message : [];
    const message = typeof raw.message === 'string' ? raw.message : details.length ? 'request validation failed' : (notReady(raw) ?? exception.message);
    return errorBody(status, withoutQuotedRequest(status, message), details);
  }
  // A guest erased through every try at making their data key (SubjectKeyContendedError) may be created again later.
  if (exception instanceof IllegalTransitionError || exception instanceof SubjectKeyContendedError) {
    return { statusCode: HttpStatus.CONFLICT, error: 'Conflict', message: exception.message, details: [] };
  }
  // Changed where it is stored: no request mends it, so the answer names the mission and what an operator does.
  if (exception instanceof UnreadableStoredDataError) {
    return { statusCode: HttpStatus.CONFLICT, error: 'Conflict', message: `${exception.message}; ${CHANGED_STORED_DATA_REMEDY}`, details: [] };
  }
  // Others kept changing the mission through every retry: the client may try again.
  if (exception instanceof VersionConflictError) {
    return { statusCode: HttpStatus.CONFLICT, error: 'Conflict', message: `${exception.message}; it is changing, try again`, details: [] };
  }
  // A parse failure too (entity.parse.failed), but valid JSON: its message names the key, not the body.
  if (exception instanceof ForbiddenJsonKeyError) {
    return { statusCode: HttpStatus.BAD_REQUEST, error: 'Bad Request', message: exception.message, details: bodyProblemDetails(exception.message) };
  }
  // The server is misconfigured, not the request wrong: every request that needs this master key fails alike until an operator fixes it.
  if (exception instanceof WrongMasterKeyError) {
    return { statusCode: HttpStatus.SERVICE_UNAVAILABLE, error: 'Service Unavailable', message: masterKeyMismatchMessage(exception), details: [] };
  }
  // Stored guest data that fails its check was changed where it is stored: no request fixes it, and the audit finds where.
  if (exception instanceof GuestDataError && exception.code === GuestDataErrorCode.Tampered) {
    return { statusCode: HttpStatus.INTERNAL_SERVER_ERROR, error: 'Internal Server Error', message: ALTERED_GUEST_DATA, details: [] };
  }
  // Not this request's fault nor the server's for good: Redis is down, restarting or failing over, and the client may retry.
  if (isRedisUnreachable(exception) || isRedisPassingRefusal(exception)) {
    return { statusCode: HttpStatus.SERVICE_UNAVAILABLE, error: 'Service Unavailable', message: REDIS_UNREACHABLE_MESSAGE, details: [] };
  }
  // Redis refuses writes until an operator makes room; the rate limiter writes first, so every API request meets it.
  if (isRedisOutOfMemory(exception)) {
    return { statusCode: HttpStatus.SERVICE_UNAVAILABLE, error: 'Service Unavailable', message: REDIS_OUT_OF_MEMORY_MESSAGE, details: [] };
  }
  const failure = bodyParserFailure(exception);
  // As the pipe says it of an array: the parser refuses the other JSON that is no object.
  if (failure && scalarBody(failure)) {
    return { statusCode: HttpStatus.BAD_REQUEST, error: 'Bad Request', message: 'request validation failed', details: [NOT_AN_OBJECT_DETAIL] };
  }
  if (failure) {
    const message =
      failure.type === 'entity.too.large' && failure.limit !== undefined ? bodyTooLargeMessage(failure.limit) : BODY_PARSER_MESSAGES[failure.type];
    return errorBody(failure.status, message ?? 'bad request body');
  }
  return { statusCode: 500, error: 'Internal Server Error', message: 'internal error', details: [] };
}

/** An HTTP exception's response as fields: a string response is its message. */
function responseFields(exception: HttpException): Record<string, unknown> {
  const response = exception.getResponse();
  return typeof response === 'object' && response !== null ? (response as Record<string, unknown>) : { message: response };
}

function failedReadinessProbe(exception: unknown): boolean {
  return exception instanceof HttpException && notReady(responseFields(exception)) !== undefined;
}

/**
 * What a failed readiness check (Terminus: `{ status: 'error', error: { <check>: { status: 'down', message } } }`)
 * says, e.g. "not ready: redis unreachable"; undefined for any other response.
 */
function notReady(raw: Record<string, unknown>): string | undefined {
  if (raw.status !== 'error' || typeof raw.error !== 'object' || raw.error === null) return undefined;
  const reasons = Object.entries(raw.error as Record<string, { message?: unknown }>).map(([check, result]) =>
    typeof result?.message === 'string' ? result.message : `${check} down`,
  );
  return reasons.length ? `not ready: ${reasons.join('; ')}` : undefined;
}

/** What an operator does about a mission's stored data that cannot be read (UnreadableStoredDataError), said in its 409. */
export const CHANGED_STORED_DATA_REMEDY =
  'it was changed where it is stored: an operator must run `replay verify`, which finds what changed, then `replay rebuild`, which writes the read model again from the log';

/** Names neither the subject nor the field: the client needs neither to report it, and the log has the stack. */
export const ALTERED_GUEST_DATA =
  'stored guest data fails its authentication check: it was altered, or moved to another mission or field where it is stored; `replay verify` finds where';

/**
 * The ids of the master key needed and of those configured (hashes of the keys, which reveal
 * nothing of them), and the remedy. Not the subject whose key it is: the client needs no subject
 * to report a misconfiguration, and without one the message is the same for every request that
 * meets it, so it is logged once.
 */
function masterKeyMismatchMessage(error: WrongMasterKeyError): string {
  return (
    `guest data cannot be read: it is wrapped under master key ${error.required}, which this service is not configured with ` +
    `(configured: ${error.configured.join(', ')}); an operator must ${MASTER_KEY_REMEDY}`
  );
}

/** The master key mismatches logged by this process, by their message: one line each, not a stack per request. */
const loggedMasterKeyMismatches = new Set<string>();

/** Logs a master key mismatch (its ErrorBody message) the first time this process meets it: API responses and the live stream alike. */
export function logMasterKeyMismatchOnce(message: string): void {
  if (loggedMasterKeyMismatches.has(message)) return;
  loggedMasterKeyMismatches.add(message);
  logger.error(
    `${message} (logged once; every request that needs that master key answers 503, and the live stream shows its fields as ${UNAVAILABLE_MARKER}, until it is configured)`,
  );
}

/**
 * How long after the last refusal for lack of memory a new one counts as a new outage, and is logged
 * again: refusals come with every request while Redis is full, and a line each would flood the log.
 */
export const REDIS_OUT_OF_MEMORY_QUIET_MS = 60_000;

/** When this process last answered a request with the out-of-memory 503 (ms since the epoch); 0 before. */
let lastOutOfMemoryAt = 0;

/** Logs the first refusal of an out-of-memory outage (none for REDIS_OUT_OF_MEMORY_QUIET_MS before it), not each request's. */
export function logRedisOutOfMemoryOnce(now: number): void {
  const newOutage = now - lastOutOfMemoryAt > REDIS_OUT_OF_MEMORY_QUIET_MS;
  lastOutOfMemoryAt = now;
  if (!newOutage) return;
  logger.error(
    "Redis refuses writes: its used memory is above 'maxmemory' (OOM). Every /api request answers 503 until it has room " +
      '(raise maxmemory, or free memory); see docs/operations.md, "Recommended Redis settings". ' +
      `Logged once per outage (again only after ${REDIS_OUT_OF_MEMORY_QUIET_MS / 1000} s without a refusal); brain_redis_memory_full says when it ends.`,
  );
}

/**
 * What a body-parser failure says, by its `type`: fixed texts, because body-parser's own messages
 * quote the body (JSON.parse's "Unexpected token … in "<start of the body>"…"), which may be a
 * guest's data, and an error body ends up in clients' logs. Where the client can mend it, the text
 * says how: a body too large names the limit (bodyTooLargeMessage, from the failure's `limit`).
 */
const BODY_PARSER_MESSAGES: Readonly<Record<string, string>> = {
  'entity.parse.failed': 'the request body is not valid JSON',
  'entity.too.large': 'the request body is over BODY_LIMIT_BYTES',
  'entity.verify.failed': 'the request body failed verification',
  'encoding.unsupported': 'unsupported content encoding',
  'charset.unsupported': 'unsupported charset: send the body as UTF-8',
  'request.aborted': 'request aborted',
  'request.size.invalid': 'request size did not match content length',
  'parameters.too.many': 'too many parameters',
};

/**
 * Express's and Nest's own messages that quote the request, reworded, as an error body ends up in
 * clients' logs. Express's router fails on a path parameter that is not valid percent-encoding (a
 * lone `%`) with "Failed to decode param '<the raw parameter>'", which Nest passes on as a 400:
 * the parameter may be a guest's e-mail address (`/api/subjects/:subjectId`). Nest's route-not-found
 * 404 quotes the whole URL: path values (that address again, under a misspelt route) and the query
 * string (`/api//stream?token=<a stream token>`). Which segments of a path no route matches are
 * values cannot be told, so only the method is kept, and the message says "this path" instead.
 */
function withoutQuotedRequest(status: number, message: string): string {
  if (message.startsWith('Failed to decode param ')) return 'a path parameter is not valid percent-encoding';
  const noRoute = status === 404 ? NEST_NO_ROUTE.exec(message) : null;
  return noRoute ? `no route takes ${noRoute[1]} at this path; the routes are listed at /docs` : message;
}

/**
 * body-parser errors carry `status` and `type` (e.g. entity.parse.failed, entity.too.large), the
 * body it failed to parse, and for a body too large the limit in bytes.
 */
function bodyParserFailure(exception: unknown): { status: number; type: string; body: unknown; limit: number | undefined } | undefined {
  if (typeof exception !== 'object' || exception === null) return undefined;
  const { status, type, body, limit } = exception as { status?: unknown; type?: unknown; body?: unknown; limit?: unknown };
  if (typeof status !== 'number' || typeof type !== 'string' || status < 400 || status >= 500) return undefined;
  return { status, type, body, limit: typeof limit === 'number' ? limit : undefined };
}

/**
 * Whether body-parser refused valid JSON that is no object or array (`null`, `"hi"`, `42`): its
 * strict mode takes only those, and calls the rest a parse failure, which "not valid JSON" would
 * misname.
 */
function scalarBody(failure: { type: string; body: unknown }): boolean {
  if (failure.type !== 'entity.parse.failed' || typeof failure.body !== 'string') return false;
  // An object or array the parser failed on (its reviver, say) is no scalar, whatever JSON.parse alone makes of it.
  if (/^\s*[[{]/.test(failure.body)) return false;
  try {
    JSON.parse(failure.body);
    return true;
  } catch {
    return false;
  }
}
