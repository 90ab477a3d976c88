import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { INestApplication } from '@nestjs/common';
import { NextFunction, Request, Response, static as serveStatic } from 'express';
import { isReadMethod, markStaticRoute } from '@app/tracing';

export const CONSOLE_PATH = '/console';

/**
 * The operator console: the static files `npm run build` bundles from console/ into dist/console.
 * Asset names carry a content hash, so they are cached for good; index.html never is, so a new
 * build is picked up at the next load. Before a build there is a page saying how to make one.
 */
export function serveConsole(app: INestApplication, dir: string): void {
  const files = serveStatic(dir, {
    index: 'index.html',
    setHeaders: (response, path) => {
      response.setHeader('Cache-Control', path.endsWith('index.html') ? 'no-cache' : 'public, max-age=31536000, immutable');
    },
  });
  app.use(CONSOLE_PATH, (request: Request, response: Response, next: NextFunction) => {
    markStaticRoute(request, CONSOLE_PATH);
    // Its files take GET and HEAD: another method is the 405 the error filter gives (Allow: GET, HEAD).
    if (!isReadMethod(request.method)) return next();
    if (existsSync(join(dir, 'index.html'))) return files(request, response, next);
    response.status(404).type('text/plain').send('The console is not built: run `npm run build`.\n');
  });
}
