import { AddressInfo } from 'node:net';
import express from 'express';
import Redis from 'ioredis';
import { findFreePort } from '@app/redis';
import { writeErrorBody } from '../http/error-body.filter';
import { AuthFailureThrottle } from '../rate-limit/auth-failure-throttle';
import { RedisThrottlerStorage } from '../rate-limit/redis-throttler-storage';
import { ApiKeyStore } from './api-key-store';
import { authenticateBeforeBody, failureAddress } from './api-key.middleware';

describe('authentication before the body (a real HTTP server on loopback)', () => {
  it('given the failure count cannot reach Redis, when a wrong key is presented, then it is a 401, not a 500', async () => {
    // A Redis nobody listens on: the count fails at once.
    const unreachable = new Redis({
      port: await findFreePort(),
      host: '127.0.0.1',
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    const throttle = new AuthFailureThrottle(new RedisThrottlerStorage(unreachable, 'test:auth-down:'), 30);
    const app = express();
    app.use(authenticateBeforeBody(new ApiKeyStore([{ name: 'ops', secret: 'middleware-spec-secret-01', role: 'operator' }]), throttle));
    app.get('/api/missions', (_request, response) => response.json([]));
    app.use((error: unknown, _request: express.Request, response: express.Response, _next: express.NextFunction) => writeErrorBody(response, error));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const wrong = await fetch(`http://127.0.0.1:${port}/api/missions`, { headers: { authorization: 'Bearer not-the-right-secret-0000' } });
      expect(wrong.status).toBe(401);
      expect(await wrong.json()).toMatchObject({ statusCode: 401, message: 'invalid API key' });

      const right = await fetch(`http://127.0.0.1:${port}/api/missions`, { headers: { authorization: 'Bearer middleware-spec-secret-01' } });
      expect(right.status).toBe(200);
      await right.arrayBuffer();
    } finally {
      await new Promise((resolve) => server.close(resolve));
      unreachable.disconnect();
    }
  });

  it('given IPv6 peers of one /64, then their failures count as one address; IPv4, also IPv4-mapped, counts per address', () => {
    const of = (ip: string) => failureAddress({ ip, socket: { remoteAddress: ip } as express.Request['socket'] });
    // Counted per exact address, a host holding a /64 could try from a new address every time.
    expect(of('2001:db8:1:2::1')).toBe('2001:db8:1:2::/64');
    expect(of('2001:db8:1:2:ffff:ffff:ffff:fffe')).toBe('2001:db8:1:2::/64');
    expect(of('2001:db8:1:3::1')).toBe('2001:db8:1:3::/64');
    expect(of('::1')).toBe('::/64');
    expect(of('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(of('192.0.2.7')).toBe('192.0.2.7');
    expect(of('192.0.2.8')).toBe('192.0.2.8');
  });
});
