import { dirname, join } from 'node:path';
import { INestApplication } from '@nestjs/common';
import { NextFunction, Request, Response } from 'express';
import { Environment } from '@app/config';
import { RedisConnection } from '@app/redis';
import { ENVIRONMENT, REDIS, repoFile } from '@app/runtime';
import { ApiKeyStore, authenticateBeforeBody } from '../auth';
import { CONSOLE_PATH, serveConsole } from '../console/serve-console';
import { AuthFailureThrottle } from '../rate-limit';
import { streamTokenAuthentication, StreamTokens } from '../stream/stream-tokens';
import { ErrorBodyFilter, writeErrorBody } from './error-body.filter';
import { setUpOpenApi } from './openapi';
import { parseQuery } from './query-parser';
import { RedisOutageGate } from './redis-outage-gate';
import { RequestValidationPipe } from './request-validation.pipe';
import { noStoreApiResponses, securityHeaders } from './security-headers';

export function configureHttp(app: INestApplication): void {
  const express = app.getHttpAdapter().getInstance() as { disable(setting: string): void; set(setting: string, value: unknown): void };
  express.disable('x-powered-by');
  // No ETag on what the app sends itself (/api, /health, /docs-json): API answers are no-store and
  // the document lists no 304, yet If-None-Match with Express's weak ETag got an empty 304. The
  // console's static files keep theirs (serve-static sets its own ETag and Last-Modified).
  express.disable('etag');
  express.set('query parser', parseQuery);
  app.use(unconditionalAnswers());
  app.use(securityHeaders());
  app.use(noStoreApiResponses());
  // Before authentication: a failed one is counted in Redis, which would hold its 401 for the whole outage.
  // A request under way waits for a lost connection as long as the connection waits for a silent Redis.
  app.use(new RedisOutageGate(app.get<RedisConnection>(REDIS), app.get<Environment>(ENVIRONMENT).REDIS_LIVENESS_TIMEOUT_MS).middleware());
  // Before anything reads a body: a request without a valid key must cost as little as possible.
  app.use(authenticateBeforeBody(app.get(ApiKeyStore), app.get(AuthFailureThrottle), streamTokenAuthentication(app.get(StreamTokens))));
  // Bodies are read later, after the key's role and the rate limit (JsonBodyGuard).
  // Errors raised by the middleware above (no key, too many failures) never reach Nest's filters.
  app.use((error: unknown, _request: Request, response: Response, next: NextFunction) => {
    // A body under way cannot take an error body: Express ends the connection. One answered in full takes nothing more (writeErrorBody).
    if (response.headersSent && !response.writableEnded) return next(error);
    writeErrorBody(response, error);
  });
  app.useGlobalPipes(new RequestValidationPipe());
  app.useGlobalFilters(new ErrorBodyFilter());
  setUpOpenApi(app);
  serveConsole(app, join(dirname(repoFile('package.json')), 'dist', 'console'));
}

/**
 * Drops If-None-Match and If-Modified-Since from every request but the console's: without an
 * ETag Express still answered `If-None-Match: *` (which matches any representation) with an
 * empty 304, which the document lists for no operation and which leaves a client without the
 * body it asked for. The console's static files keep their revalidation.
 */
function unconditionalAnswers() {
  return (request: Request, _response: Response, next: NextFunction): void => {
    if (!(request.path === CONSOLE_PATH || request.path.startsWith(`${CONSOLE_PATH}/`))) {
      delete request.headers['if-none-match'];
      delete request.headers['if-modified-since'];
    }
    next();
  };
}
