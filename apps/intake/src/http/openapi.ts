import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, ResponseObject, SwaggerModule } from '@nestjs/swagger';
import { NextFunction, Request, Response } from 'express';
import { isReadMethod, markStaticRoute } from '@app/tracing';
import { API_CACHE_CONTROL } from './security-headers';

/** Other spellings of the Swagger UI page; they redirect to DOCS_PATH. */
const DOCS_ALIASES = new Set(['/docs/', '/docs/index.html']);
const DOCS_PATH = '/docs';

/**
 * The UI's HTML loads its scripts by relative URLs, which resolve differently under `/docs/` and
 * `/docs/index.html` than under `/docs` (the browser showed a blank page there), so there is one
 * page and the other spellings redirect to it, keeping their query string.
 */
function redirectDocsAliases(request: Request, response: Response, next: NextFunction): void {
  // Under another method than these the page is not there to redirect to: the 405 the error filter gives.
  if (!DOCS_ALIASES.has(request.path.toLowerCase()) || !isReadMethod(request.method)) return next();
  const query = request.originalUrl.indexOf('?');
  response.redirect(301, `${DOCS_PATH}${query >= 0 ? request.originalUrl.slice(query) : ''}`);
}

const EVENT_STREAM_CACHE_CONTROL = 'no-cache, no-transform';

/** The `Cache-Control` every /api response carries (noStoreApiResponses), on each of them in the document. */
function documentCacheControl(document: OpenAPIObject): void {
  for (const [path, item] of Object.entries(document.paths)) {
    if (!path.startsWith('/api')) continue;
    for (const operation of Object.values(item as Record<string, { responses?: Record<string, ResponseObject> }>)) {
      for (const response of Object.values(operation?.responses ?? {})) {
        const stream = response.content?.['text/event-stream'] !== undefined;
        const value = stream ? EVENT_STREAM_CACHE_CONTROL : API_CACHE_CONTROL;
        response.headers = {
          ...response.headers,
          'Cache-Control': {
            description: stream
              ? 'The live stream is not to be cached or transformed by proxies.'
              : 'API responses carry guest data and are not to be stored by any cache.',
            schema: { type: 'string', example: value },
          },
        };
      }
    }
  }
}

/**
 * The OpenAPI 3 document at /docs-json and Swagger UI at /docs. Routes, DTOs and responses are
 * described by decorators on the controllers and body/query classes; the response shapes that are
 * TypeScript interfaces are mirrored by the classes in ./openapi-schemas, the error responses come
 * from ./api-responses.
 */
export function setUpOpenApi(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('BRAIN Mission System — intake API')
    .setDescription(
      [
        'Missions for AI agents: create, follow, cancel; the dead-letter queue; daily reports.',
        '',
        'Every /api route needs an API key (`Authorization: Bearer <key>` or `X-API-Key: <key>`); a missing or unknown key is a 401. ' +
          'Each key has a role: **reader** may read, **submitter** may also create and cancel missions, **operator** may do everything, ' +
          'including the dead-letter queue. A key whose role is too low gets a 403.',
        '',
        'No other scheme is accepted, nor a bare secret in `Authorization`. The key is checked before the body is read. ' +
          'An address with more than AUTH_FAILURES_PER_MINUTE failed authentications gets 429 on every /api route for the rest of the minute, except for requests with a valid key.',
        '',
        'Requests are rate limited per API key over the whole API (RATE_LIMIT_PER_MINUTE per fixed minute); beyond it a 429 with Retry-After.',
        '',
        'Times are ISO 8601 that `Date.parse` reads (e.g. `2026-05-01T12:00:00Z`); ids are checked before anything is looked up: a malformed one is a 400, an unknown one a 404.',
        '',
        'Request bodies must be uncompressed `application/json` (else 415; any Content-Encoding but identity is a 415) and at most BODY_LIMIT_BYTES (else 413). ' +
          'Every error has the body ErrorBodyView: `{statusCode, error, message, details[]}`.',
      ].join('\n'),
    )
    .setVersion('1.0')
    .addTag('missions', 'Create, list, follow and cancel missions; queue statistics.')
    .addTag('dead letters', 'Missions that used up their attempts, and requeueing them (operator only).')
    .addTag('stream', 'Mission events as they happen (Server-Sent Events), and tokens for browsers to open the stream.')
    .addTag('webhooks', 'Signed webhooks (Standard Webhooks) for mission events, their deliveries and redelivery (operator only).')
    .addTag('reports', 'Read models projected from the event log, such as the daily report per mission type.')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'API key', description: 'The API key as a bearer token: `Authorization: Bearer <key>`.' })
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'The API key in its own header.' }, 'api-key')
    .build();
  const document = SwaggerModule.createDocument(app, config);
  documentCacheControl(document);
  // The UI's assets are served by a static middleware, which no route pattern names.
  app.use(DOCS_PATH, (request: Request, _response: Response, next: NextFunction) => {
    markStaticRoute(request, DOCS_PATH);
    next();
  });
  // Before the UI's own routes, which would answer these spellings first.
  app.use(redirectDocsAliases);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
}
