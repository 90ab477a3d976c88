import { Controller, Delete, Get, HttpCode, INestApplication, Param, Post, Req } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { ErrorBodyFilter } from '../http/error-body.filter';
import { ApiClient, AuthenticatedRequest } from './api-client';
import { ApiKey } from './api-key';
import { ApiKeyStore } from './api-key-store';
import { ApiKeyGuard } from './api-key.guard';
import { OpenToClients } from './open-to-clients.decorator';
import { RequiresRole } from './requires-role.decorator';

const READER: ApiKey = { name: 'dash', secret: 'reader-secret-0123456789', role: 'reader' };
const SUBMITTER: ApiKey = { name: 'ci', secret: 'submitter-secret-0123456789', role: 'submitter' };
const OPERATOR: ApiKey = { name: 'ops', secret: 'operator-secret-0123456789', role: 'operator' };
const CLIENT: ApiKey = { name: 'partner', secret: 'client-secret-0123456789', role: 'client' };

@Controller('api/things')
class ThingsController {
  @Get()
  list(@Req() req: AuthenticatedRequest): { caller: ApiClient | undefined } {
    return { caller: req.apiClient };
  }

  @Post()
  @RequiresRole('submitter')
  create(): { created: true } {
    return { created: true };
  }

  @Get('mine')
  @OpenToClients()
  mine(): { mine: true } {
    return { mine: true };
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @RequiresRole('submitter')
  @OpenToClients()
  cancel(@Param('id') id: string): { cancelled: string } {
    return { cancelled: id };
  }

  @Delete(':id')
  remove(@Param('id') id: string): { deleted: string } {
    return { deleted: id };
  }
}

@Controller()
class OpenController {
  @Get('health')
  health(): { status: string } {
    return { status: 'ok' };
  }
}

describe('ApiKeyGuard (HTTP)', () => {
  let app: INestApplication;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      controllers: [ThingsController, OpenController],
      providers: [
        { provide: ApiKeyStore, useValue: new ApiKeyStore([READER, SUBMITTER, OPERATOR, CLIENT]) },
        { provide: APP_GUARD, useClass: ApiKeyGuard },
      ],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    app.useGlobalFilters(new ErrorBodyFilter());
    await app.init();
  });

  afterAll(() => app.close());

  const bearer = (key: ApiKey) => ({ Authorization: `Bearer ${key.secret}` });

  it('given no key, then 401 "missing API key" in the error shape, with WWW-Authenticate', async () => {
    const res = await request(app.getHttpServer()).get('/api/things').expect(401);
    expect(res.body).toEqual({ statusCode: 401, error: 'Unauthorized', message: expect.stringMatching(/^missing API key/), details: [] });
    expect(res.headers['www-authenticate']).toMatch(/^Bearer\b/);
  });

  it.each([
    ['Authorization: Bearer', { Authorization: 'Bearer wrong-secret-0123456789' }],
    ['X-API-Key', { 'X-API-Key': 'wrong-secret-0123456789' }],
  ])('given a wrong key in %s, then 401 "invalid API key" with WWW-Authenticate', async (_style, headers) => {
    const res = await request(app.getHttpServer()).get('/api/things').set(headers).expect(401);
    expect(res.body).toEqual({ statusCode: 401, error: 'Unauthorized', message: 'invalid API key', details: [] });
    expect(res.headers['www-authenticate']).toMatch(/^Bearer\b/);
  });

  it.each([
    ['another scheme', { Authorization: `Basic ${Buffer.from('ops:x').toString('base64')}` }],
    ['a valid secret without a scheme', { Authorization: OPERATOR.secret }],
    ['a wrong secret without a scheme', { Authorization: 'wrong-secret-0123456789' }],
    ['a valid secret in another scheme', { Authorization: `Token ${OPERATOR.secret}` }],
  ])('given Authorization holding %s, then 401 naming the forms that are read, the same whether the secret exists', async (_style, headers) => {
    const res = await request(app.getHttpServer()).get('/api/things').set(headers).expect(401);
    expect(res.body).toEqual({
      statusCode: 401,
      error: 'Unauthorized',
      message: 'invalid API key: use Authorization: Bearer <key> or X-API-Key: <key>; other schemes are not read',
      details: [],
    });
    expect(res.headers['www-authenticate']).toMatch(/^Bearer\b/);
  });

  it.each([['Bearer'], ['Bearer '], ['bearer \t ']])(
    'given Authorization %j with no key after it, then 401 "missing API key", not "invalid"',
    async (value) => {
      const res = await request(app.getHttpServer()).get('/api/things').set({ Authorization: value }).expect(401);
      expect(res.body).toEqual({
        statusCode: 401,
        error: 'Unauthorized',
        message: expect.stringMatching(/^missing API key: send Authorization: Bearer <key>/),
        details: [],
      });
    },
  );

  it('given a valid key in either header, then the request passes and the handler sees the caller but not the secret', async () => {
    const viaBearer = await request(app.getHttpServer()).get('/api/things').set(bearer(READER)).expect(200);
    expect(viaBearer.body).toEqual({ caller: { name: 'dash', role: 'reader' } });
    const viaHeader = await request(app.getHttpServer()).get('/api/things').set('X-API-Key', SUBMITTER.secret).expect(200);
    expect(viaHeader.body).toEqual({ caller: { name: 'ci', role: 'submitter' } });
    expect(JSON.stringify(viaHeader.body)).not.toContain(SUBMITTER.secret);
  });

  it('given two different valid keys, one in each header, then 401 saying so, whichever is stronger; the same key in both passes', async () => {
    for (const [bearerKey, headerKey] of [
      [OPERATOR, READER],
      [READER, OPERATOR],
    ]) {
      const res = await request(app.getHttpServer()).delete('/api/things/t-1').set(bearer(bearerKey)).set('X-API-Key', headerKey.secret).expect(401);
      expect(res.body).toEqual({ statusCode: 401, error: 'Unauthorized', message: expect.stringMatching(/^two different API keys/), details: [] });
      expect(res.headers['www-authenticate']).toMatch(/^Bearer\b/);
    }
    const same = await request(app.getHttpServer()).get('/api/things').set(bearer(SUBMITTER)).set('X-API-Key', ` ${SUBMITTER.secret} `).expect(200);
    expect(same.body).toEqual({ caller: { name: 'ci', role: 'submitter' } });
    // Another scheme in Authorization presents no key: X-API-Key is the one, as before.
    await request(app.getHttpServer()).get('/api/things').set('Authorization', 'Basic b3BzOng=').set('X-API-Key', READER.secret).expect(200);
  });

  it('given a header sent twice with two different keys, then 401 saying so, whichever comes first; the same key twice passes', async () => {
    for (const [first, second] of [
      [OPERATOR, READER],
      [READER, OPERATOR],
    ]) {
      for (const twice of [{ Authorization: [`Bearer ${first.secret}`, `Bearer ${second.secret}`] }, { 'X-API-Key': [first.secret, second.secret] }]) {
        const res = await request(app.getHttpServer()).delete('/api/things/t-1').set(twice).expect(401);
        expect(res.body).toEqual({ statusCode: 401, error: 'Unauthorized', message: expect.stringMatching(/^two different API keys/), details: [] });
      }
    }
    for (const twice of [
      { Authorization: [`Bearer ${SUBMITTER.secret}`, `bearer  ${SUBMITTER.secret}`] },
      { 'X-API-Key': [SUBMITTER.secret, SUBMITTER.secret] },
    ]) {
      const same = await request(app.getHttpServer()).get('/api/things').set(twice).expect(200);
      expect(same.body).toEqual({ caller: { name: 'ci', role: 'submitter' } });
    }
  });

  it('given a reader, then it may GET but a POST is 403 in the error shape', async () => {
    await request(app.getHttpServer()).head('/api/things').set(bearer(READER)).expect(200);
    const res = await request(app.getHttpServer()).post('/api/things').set(bearer(READER)).expect(403);
    expect(res.body).toEqual({ statusCode: 403, error: 'Forbidden', message: expect.stringContaining('needs submitter'), details: [] });
    await request(app.getHttpServer()).post('/api/things/t-1/cancel').set(bearer(READER)).expect(403);
  });

  it('given a submitter, then it may create and cancel, but DELETE (operator by default) is 403', async () => {
    await request(app.getHttpServer()).post('/api/things').set(bearer(SUBMITTER)).expect(201, { created: true });
    await request(app.getHttpServer()).post('/api/things/t-1/cancel').set(bearer(SUBMITTER)).expect(200, { cancelled: 't-1' });
    const res = await request(app.getHttpServer()).delete('/api/things/t-1').set(bearer(SUBMITTER)).expect(403);
    expect(res.body.message).toContain('needs operator');
  });

  it('given an operator, then everything is allowed', async () => {
    const server = app.getHttpServer();
    await request(server).get('/api/things').set(bearer(OPERATOR)).expect(200);
    await request(server).post('/api/things').set(bearer(OPERATOR)).expect(201);
    await request(server).post('/api/things/t-2/cancel').set('X-API-Key', OPERATOR.secret).expect(200);
    await request(server).delete('/api/things/t-2').set(bearer(OPERATOR)).expect(200, { deleted: 't-2' });
  });

  it('given a client, then it may call a route open to clients, of any role, and every other route is 403, a GET included', async () => {
    const server = app.getHttpServer();
    await request(server).get('/api/things/mine').set(bearer(CLIENT)).expect(200, { mine: true });
    await request(server).post('/api/things/t-3/cancel').set(bearer(CLIENT)).expect(200, { cancelled: 't-3' });
    const res = await request(server).get('/api/things').set(bearer(CLIENT)).expect(403);
    expect(res.body.message).toBe('API key "partner" has role client; this needs reader');
    await request(server).post('/api/things').set(bearer(CLIENT)).expect(403);
    await request(server).delete('/api/things/t-3').set(bearer(CLIENT)).expect(403);
    // The mark opens a route to clients and to no one else.
    await request(server).post('/api/things/t-3/cancel').set(bearer(READER)).expect(403);
    await request(server).get('/api/things/mine').set(bearer(READER)).expect(200);
  });

  it('given a route outside /api, then no key is needed', async () => {
    await request(app.getHttpServer()).get('/health').expect(200, { status: 'ok' });
  });

  it('given the API path in other letter case (Express still routes it), then it is still guarded', async () => {
    await request(app.getHttpServer()).get('/API/things').expect(401);
    await request(app.getHttpServer()).get('/Api/Things').set(bearer(READER)).expect(200);
    await request(app.getHttpServer()).post('/API/things').set(bearer(READER)).expect(403);
  });
});
