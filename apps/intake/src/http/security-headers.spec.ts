import express from 'express';
import helmet from 'helmet';
import request from 'supertest';
import { HELMET_OPTIONS, securityHeaders } from './security-headers';

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
  it('given a response, then it carries exactly the headers helmet sets with those options', async () => {
    const expected = await headersOf(helmet(HELMET_OPTIONS));
    expect(expected['content-security-policy']).toBeDefined();
    expect(await headersOf(securityHeaders())).toEqual(expected);
  });

  it("given the console opened over plain HTTP on the hotel's network, then the policy does not make the browser fetch its assets over HTTPS", async () => {
    const policy = String((await headersOf(securityHeaders()))['content-security-policy']);
    expect(policy).not.toContain('upgrade-insecure-requests');
    // The rest of helmet's policy stays.
    expect(policy).toContain("default-src 'self'");
    expect(policy).toContain("object-src 'none'");
  });
});
