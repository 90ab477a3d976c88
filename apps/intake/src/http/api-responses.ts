import { STATUS_CODES } from 'node:http';
import { applyDecorators, UseGuards } from '@nestjs/common';
import { ApiResponse, HeadersObject } from '@nestjs/swagger';
import { MASTER_KEY_REMEDY } from '@app/guest-data';
import { Role } from '../auth/api-key';
import { CHANGED_STORED_DATA_REMEDY } from './error-body.filter';
import { badIdDescription, idProblem, IdKind } from './id.pipe';
import { NO_BODY_PROBLEM, NoBodyGuard } from './no-body.guard';
import { ErrorBodyView } from './openapi-schemas';
import { bodyTooLargeMessage } from './request-body';

/** Headers ApiKeyThrottlerGuard sets on every /api response it lets through. */
export const RATE_LIMIT_HEADERS: HeadersObject = {
  'X-RateLimit-Limit': { description: 'Requests allowed per API key per minute (RATE_LIMIT_PER_MINUTE).', schema: { type: 'integer' } },
  'X-RateLimit-Remaining': { description: 'Requests left in the current minute.', schema: { type: 'integer' } },
  'X-RateLimit-Reset': { description: 'Seconds until the current minute ends.', schema: { type: 'integer' } },
};

export interface ErrorResponsesOptions {
  /** The least role the route needs; above reader, a 403 is documented (every key but a client's is at least a reader). */
  role: Role;
  /**
   * The route is @OpenToClients: a client key calls it too, on its own missions. A reader route
   * that is not documents the 403 a client key gets.
   */
  clients?: true;
  /** Why the route answers 400 on its own input, when it can. */
  badRequest?: string;
  /** A bad field for the 400 example (when the 400 is a validation error). */
  invalidField?: { field: string; problem: string };
  /** The message of the 400 example otherwise. */
  badRequestMessage?: string;
  /** Why the route answers 404, when it can. */
  notFound?: string;
  /** Why the route answers 409, when it can. */
  conflict?: string;
  /** Example message of the 409. */
  conflictExample?: string;
  /** Why the route answers 422 (well-formed input it cannot act on), when it can. */
  unprocessable?: string;
  /** Example message of the 422. */
  unprocessableExample?: string;
  /**
   * The route reads a JSON body: malformed JSON is documented as a 400. Without it the route takes
   * no body: NoBodyGuard refuses one (anything but none or `{}`) with a 400, which is documented
   * with the others. The one place a route says so, so the behaviour and its documentation cannot
   * part. 413 and 415 are documented either way: JsonBodyGuard, global, reads any request's body.
   */
  jsonBody?: boolean;
  /** Kept for the routes that say it: a route without `jsonBody` takes no body anyway. */
  noBody?: true;
  /** The route takes an `:id` of this kind, checked by IdPipe: one that is not is a 400. */
  id?: IdKind;
  /**
   * false: a route of one mission that reports its stored data changed past reading in its answer
   * (the hash chain check) rather than with the 409 every other route of a mission answers.
   */
  unreadableConflict?: false;
  /** Why else the route answers 429, when it can. */
  tooManyRequests?: string;
}

/** The 409 every route of one mission (`:id` a mission id) answers for its stored data changed past reading (UnreadableStoredDataError). */
const UNREADABLE_STORED_DATA_CONFLICT =
  "Or the mission's stored data cannot be read: its state in the read model is no mission, its key holds another Redis type, or an event of its log is not JSON, " +
  'of a type no build writes or without a field its type always has. It was changed where it is stored; the message names the mission and what is wrong, ' +
  'and what an operator does (`replay verify`, then `replay rebuild`). No state or events are given rather than part of them.';

const UNREADABLE_STORED_DATA_EXAMPLE = `mission 01964f3a-7c2e-7b1a-9d4e-2f6a8b0c1d2e: its state in the read model (s) is not JSON; ${CHANGED_STORED_DATA_REMEDY}`;

/** The 429 of the list routes that walk the log partitions (ListScanInterceptor). */
export const LIST_SCAN_REFUSAL =
  'Or more than LIST_SCANS_PER_KEY (default 2) requests of this API key to `GET /api/missions` and `GET /api/reviews` in flight at once on this intake instance, with `Retry-After: 1`: a page can read up to 5,000 records.';

const MALFORMED_JSON =
  'A body that is not well-formed JSON, or holds a `__proto__`, `constructor` or `prototype` key, is a 400 with empty `details`; one that is JSON but no object (`[]`, `null`), a 400 whose `details` name field `body`.';
const BODY_GIVEN =
  'A body other than none or `{}` is a 400: the route takes none (`details`: field `body`); so is one that is not well-formed JSON, or holds a `__proto__`, `constructor` or `prototype` key (empty `details`).';
/** Every /api route: its query DTO's whitelist and RequestValidationPipe, or UnknownQueryInterceptor where it takes none. */
const UNKNOWN_QUERY =
  'A query parameter the route does not name is a 400 (`property <name> should not exist`); so is one it names given more than once where it takes one value (`<name> may be given only once`).';

function errorResponse(status: number, description: string, message: string, extra: { headers?: HeadersObject; details?: object[] } = {}) {
  return ApiResponse({
    status,
    description,
    type: ErrorBodyView,
    ...(extra.headers ? { headers: extra.headers } : {}),
    example: { statusCode: status, error: STATUS_CODES[status], message, details: extra.details ?? [] },
  });
}

/**
 * The error responses of an /api route, each with the ErrorBodyView body that ErrorBodyFilter
 * writes: 400 (a query parameter the route does not name), 401, 429, 500 and 503 always (every /api route needs a key, is
 * rate limited, and may open guest data), the others as the options say.
 */
export function ApiErrorResponses(options: ErrorResponsesOptions): MethodDecorator & ClassDecorator {
  const decorators: (MethodDecorator & ClassDecorator)[] = [];

  const noBody = !options.jsonBody;
  const badId = options.id ? badIdDescription(options.id) : undefined;
  const badRequest = [options.badRequest, badId, options.jsonBody ? MALFORMED_JSON : BODY_GIVEN, UNKNOWN_QUERY].filter(Boolean).join(' ');
  const invalidField = options.invalidField ?? (noBody && !options.badRequestMessage && !options.id ? { field: 'body', problem: NO_BODY_PROBLEM } : undefined);
  decorators.push(
    invalidField
      ? errorResponse(400, badRequest, 'request validation failed', { details: [{ field: invalidField.field, problems: [invalidField.problem] }] })
      : errorResponse(400, badRequest, options.badRequestMessage ?? (options.id && noBody ? idProblem(options.id) : 'the request body is not valid JSON')),
  );

  decorators.push(
    errorResponse(
      401,
      'No API key, or one the service does not know, or two different keys (one in each header). Send `Authorization: Bearer <key>` or `X-API-Key: <key>` (the same key in both passes).',
      'missing API key: send Authorization: Bearer <key> or X-API-Key: <key>',
      { headers: { 'WWW-Authenticate': { description: 'The scheme to authenticate with.', schema: { type: 'string', example: 'Bearer realm="brain"' } } } },
    ),
  );

  const clients = options.clients ? ' A `client` key may call it, on its own missions.' : ' A `client` key may not call it.';
  if (options.role !== 'reader') {
    decorators.push(
      errorResponse(
        403,
        `The API key's role may not do this: it needs ${options.role}${options.role === 'operator' ? '' : ' or operator'} (reader < submitter < operator, and reader < reviewer < operator).${clients}`,
        `API key "dashboard" has role reader; this needs ${options.role}`,
      ),
    );
  } else if (!options.clients) {
    decorators.push(
      errorResponse(
        403,
        'A `client` key may not call this route: it may call only the mission routes open to it (submit, list, read and cancel its own missions). Every other role may.',
        'API key "partner" has role client; this needs reader',
      ),
    );
  }
  if (options.notFound) decorators.push(errorResponse(404, options.notFound, 'mission 01964f3a-7c2e-7b1a-9d4e-2f6a8b0c1d2e not found'));
  // Every route of one mission reads its stored data, which someone may have changed past reading.
  const unreadable = options.id === 'mission' && options.unreadableConflict !== false;
  const conflict = unreadable ? [options.conflict, UNREADABLE_STORED_DATA_CONFLICT].filter(Boolean).join(' ') : options.conflict;
  const conflictExample = options.conflictExample ?? (unreadable ? UNREADABLE_STORED_DATA_EXAMPLE : 'conflict');
  if (conflict) decorators.push(errorResponse(409, conflict, conflictExample));
  if (options.unprocessable) decorators.push(errorResponse(422, options.unprocessable, options.unprocessableExample ?? 'unprocessable'));
  // Every route: the body is read (JsonBodyGuard) before the route's own checks, a route that takes none included.
  const anyBody = noBody ? ' The route takes no body, but one sent is read first, as on every route.' : '';
  decorators.push(
    errorResponse(413, `The request body is larger than BODY_LIMIT_BYTES (256 KiB by default).${anyBody}`, bodyTooLargeMessage(262_144)),
    errorResponse(
      415,
      'A request body whose Content-Type is not application/json, or names a charset the API does not read (`unsupported charset: send the body as UTF-8`), ' +
        `or that has a Content-Encoding other than identity (compressed bodies are not accepted).${anyBody}`,
      'request bodies must be application/json',
    ),
  );

  decorators.push(
    errorResponse(
      429,
      'Rate limit exceeded: at most RATE_LIMIT_PER_MINUTE requests per API key per fixed minute, over the whole API; ' +
        'or more than AUTH_FAILURES_PER_MINUTE failed authentications from this client address, which blocks its requests without a valid key for the rest of the minute. ' +
        'The Retry-After header says how many seconds until the minute is over.' +
        (options.tooManyRequests ? ` ${options.tooManyRequests}` : ''),
      'rate limit exceeded: at most 6000 requests per minute per API key',
      { headers: { 'Retry-After': { description: 'Seconds until requests are accepted again.', schema: { type: 'integer', example: 17 } } } },
    ),
    errorResponse(500, 'An unexpected failure; the cause goes to the log, not to the client.', 'internal error'),
    errorResponse(
      503,
      "The guest data the request needs is wrapped under a master key this service is not configured with (the server's configuration, not the request, is wrong). The message names the master key id needed and the ids configured; it is logged once per process. " +
        'Also, with Retry-After, while Redis is unreachable, loading its data or failing over (`the store (Redis) is unreachable; retry later`; a create under way when it went may have been recorded: retry it with the same Idempotency-Key) or out of memory (`the store (Redis) is out of memory; retry later`).',
      'guest data cannot be read: it is wrapped under master key mk-18cc0d2f4a9b3e71, which this service is not configured with (configured: mk-24450b6c1d7e9f30); ' +
        `an operator must ${MASTER_KEY_REMEDY}`,
    ),
  );
  if (noBody) decorators.push(UseGuards(NoBodyGuard));
  return applyDecorators(...decorators);
}
