import { dirname, join } from 'node:path';
import { INestApplication, UnsupportedMediaTypeException } from '@nestjs/common';
import { NextFunction, Request, Response, json } from 'express';
import { Environment } from '@app/config';
import { rejectForbiddenKeys } from '@app/mission';
import { repoFile } from '@app/runtime';
import { ApiKeyStore, authenticateBeforeBody } from '../auth';
import { serveConsole } from '../console/serve-console';
import { AuthFailureThrottle } from '../rate-limit';
import { streamTokenAuthentication, StreamTokens } from '../stream/stream-tokens';
import { ErrorBodyFilter, writeErrorBody } from './error-body.filter';
import { setUpOpenApi } from './openapi';
import { RequestValidationPipe } from './request-validation.pipe';
import { securityHeaders } from './security-headers';

/**
 * Bodies are uncompressed JSON or nothing: a body in any other content type, or with any
 * Content-Encoding but identity, is a 415 before parsing. Compressed bodies are refused rather
 * than inflated: bodies are small, and inflating would let a few KB expand to BODY_LIMIT_BYTES of
 * work (and a broken gzip stream had become a 500).
 */
function requireJsonBodies(request: Request, _response: Response, next: NextFunction): void {
  const hasBody = Number(request.headers['content-length'] ?? 0) > 0 || request.headers['transfer-encoding'] !== undefined;
  if (!hasBody) return next();
  if (!request.is('application/json')) return next(new UnsupportedMediaTypeException('request bodies must be application/json'));
  const encoding = (request.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding !== 'identity' && encoding !== '') {
    return next(new UnsupportedMediaTypeException('request bodies must not be compressed: Content-Encoding must be identity or absent'));
  }
  next();
}

export function configureHttp(app: INestApplication, env: Environment): void {
  const express = app.getHttpAdapter().getInstance() as { disable(setting: string): void; set(setting: string, value: unknown): void };
  express.disable('x-powered-by');
  express.set('query parser', 'simple');
  app.use(securityHeaders());
  // Before anything reads a body: a request without a valid key must cost as little as possible.
  app.use(authenticateBeforeBody(app.get(ApiKeyStore), app.get(AuthFailureThrottle), streamTokenAuthentication(app.get(StreamTokens))));
  app.use(requireJsonBodies);
  app.use(json({ limit: env.BODY_LIMIT_BYTES, strict: true, type: 'application/json', inflate: false, reviver: rejectForbiddenKeys }));
  // Errors raised by the middleware above (malformed JSON, too large, wrong type) never reach Nest's filters.
  app.use((error: unknown, _request: Request, response: Response, next: NextFunction) => {
    if (response.headersSent) return next(error);
    writeErrorBody(response, error);
  });
  app.useGlobalPipes(new RequestValidationPipe());
  app.useGlobalFilters(new ErrorBodyFilter());
  setUpOpenApi(app);
  serveConsole(app, join(dirname(repoFile('package.json')), 'dist', 'console'));
}
