import express from 'express';
import helmet from 'helmet';
import request from 'supertest';
import { securityHeaders } from './security-headers';

const VARYING = new Set(['date', 'etag', 'connection', 'keep-alive', 'content-length']);

async function headersOf(middleware: express.RequestHandler): Promise<Record<string, unknown>> {
  const app = express();
  app.disable('x-powered-by');
  app.use(middleware);
  app.get('/', (_request, response) => response.json({ ok: true }));
  const response = await request(app).get('/').expect(200);
  return Object.fromEntries(Object.entries(response.headers).filter(([name]) => !VARYING.has(name)));
}

describe('securityHeaders', () => {
  it('given a response, then it carries exactly the headers helmet() sets', async () => {
    const expected = await headersOf(helmet());
    expect(expected['content-security-policy']).toBeDefined();
    expect(await headersOf(securityHeaders())).toEqual(expected);
  });
});
