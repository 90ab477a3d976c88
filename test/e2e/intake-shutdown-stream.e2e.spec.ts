import { once } from 'node:events';
import { Agent, get, IncomingMessage } from 'node:http';
import { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { loadEnvironment } from '@app/config';
import { createServiceApp } from '@app/runtime';
import { deleteKeysByPrefix, redisTarget, TEST_DATA_KEY_SECRET, testKeyPrefix, testRedisConnection, waitFor } from '@app/testing';
import { intakeService } from '../../apps/intake/src/intake.definition';
import { EventStreamService } from '../../apps/intake/src/stream/event-stream.service';

const READER_KEY = 'test-reader-secret-000001';
/** Far past SHUTDOWN_GRACE_MS: on the code before, the close was still waiting then. */
const CLOSE_BOUND_MS = 15_000;

/** GET /api/stream over `agent`: resolves with the response once its headers are in, or with the error. */
const openStream = (base: string, agent: Agent): Promise<IncomingMessage | NodeJS.ErrnoException> =>
  new Promise((resolve) => {
    get(`${base}/api/stream`, { agent, headers: { Authorization: `Bearer ${READER_KEY}` } }, resolve).on('error', resolve);
  });

const bodyOf = async (response: IncomingMessage): Promise<string> => {
  let body = '';
  response.setEncoding('utf8');
  for await (const chunk of response) body += chunk;
  return body;
};

describe('an intake shutting down with a live stream open (the intake alone, real Redis)', () => {
  let intake: INestApplication;
  let prefix: string;
  let base: string;
  const redis = testRedisConnection('intake-shutdown-stream');

  beforeEach(async () => {
    prefix = testKeyPrefix('intake-shutdown-stream');
    intake = await createServiceApp(
      intakeService,
      loadEnvironment({
        ...redisTarget(),
        KEY_PREFIX: prefix,
        LOG_LEVEL: 'fatal',
        LOG_FORMAT: 'json',
        STREAM_BLOCK_MS: '200',
        API_KEYS: `reader:${READER_KEY}:reader`,
        // One stream per key: a reconnect while the key's ended stream still counts is at the limit.
        SSE_MAX_CLIENTS_PER_KEY: '1',
        DATA_KEY_SECRET: TEST_DATA_KEY_SECRET,
      }),
    );
    await intake.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(intake.getHttpServer().address() as AddressInfo).port}`;
  });

  afterEach(async () => {
    intake.getHttpServer().closeAllConnections();
    await intake.close().catch(() => undefined);
    await deleteKeysByPrefix(redis, prefix);
  });

  afterAll(async () => {
    await redis.quit();
  });

  it('given a client that reconnects at once over the same keep-alive connection, when the intake closes, then its stream ends, the reconnect ends at once with a retry delay, and the close ends', async () => {
    // One connection, as a browser's pool reuses it for EventSource's reconnect.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await openStream(base, agent);
      if (!(first instanceof IncomingMessage)) throw first;
      expect(first.statusCode).toBe(200);
      first.setEncoding('utf8');
      await once(first, 'data');

      const closing = intake.close().then(() => 'closed' as const);
      await once(first, 'end');
      // Before: the reconnect was a new stream on the old connection, which nothing ended, and the close waited on it for ever.
      const reconnect = await openStream(base, agent);
      const outcome = await Promise.race([closing, delay(CLOSE_BOUND_MS, undefined, { ref: false }).then(() => 'still open' as const)]);
      if (reconnect instanceof IncomingMessage) {
        // Ended at once, telling EventSource when to try again (or no connection at all any more): never a stream that stays.
        const body = await Promise.race([bodyOf(reconnect), delay(CLOSE_BOUND_MS, undefined, { ref: false }).then(() => 'a stream that stayed open')]);
        reconnect.destroy();
        expect({ status: reconnect.statusCode, type: reconnect.headers['content-type'], body }).toEqual({
          status: 200,
          type: 'text/event-stream; charset=utf-8',
          body: 'retry: 3000\n\n',
        });
      } else {
        expect(['ECONNRESET', 'ECONNREFUSED']).toContain(reconnect.code);
      }
      expect(outcome).toBe('closed');
    } finally {
      agent.destroy();
    }
  });

  it('given its streams ended for the shutdown, when a stream is asked for, then it ends at once with a retry delay, as a 200: EventSource stops for good on any other status', async () => {
    await intake.get(EventStreamService).onModuleDestroy();
    const asked = await request(intake.getHttpServer()).get('/api/stream').set('Authorization', `Bearer ${READER_KEY}`);
    expect({ status: asked.status, type: asked.headers['content-type'], body: asked.text }).toEqual({
      status: 200,
      type: 'text/event-stream; charset=utf-8',
      body: 'retry: 3000\n\n',
    });
  });

  it('given a key at its stream limit, when the intake starts shutting down, then a reconnect is not refused with a 429 while the ended stream still counts: EventSource would stop for good', async () => {
    const agent = new Agent({ keepAlive: true });
    try {
      const open = await openStream(base, agent);
      if (!(open instanceof IncomingMessage)) throw open;
      open.resume();
      const service = intake.get(EventStreamService);
      await waitFor(async () => service.clientCount === 1, { timeoutMs: 5_000, what: 'the stream to count' });
      expect(service.refusal('reader')).toMatch(/too many open live streams of this API key/);

      // Its stream has ended, but counts until its response closes, a moment later.
      const destroying = service.onModuleDestroy();
      expect({ counted: service.clientCount, refusal: service.refusal('reader') }).toEqual({ counted: 1, refusal: null });
      await destroying;
    } finally {
      agent.destroy();
    }
  });
});
