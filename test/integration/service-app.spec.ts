import { Server } from 'node:http';
import {
  Controller,
  DynamicModule,
  Get,
  INestApplication,
  Injectable,
  Module,
  NotFoundException,
  OnApplicationBootstrap,
  OnModuleDestroy,
  OnModuleInit,
  Type,
} from '@nestjs/common';
// eslint-disable-next-line no-restricted-imports -- Nest has no public accessor for a class's exception filters, which this spec checks.
import { EXCEPTION_FILTERS_METADATA } from '@nestjs/common/constants';
import { HttpAdapterHost } from '@nestjs/core';
import { EventPattern, Payload } from '@nestjs/microservices';
// eslint-disable-next-line no-restricted-imports -- nor for a handler's message pattern.
import { PATTERN_METADATA } from '@nestjs/microservices/constants';
import request from 'supertest';
import { Environment, loadEnvironment } from '@app/config';
import { encodeMessage, PassThroughRpcFilter, PermanentMessageError, StreamConsumer } from '@app/redis-streams';
import { CoreModule, createServiceApp, keyLayoutOf, ServiceDefinition } from '@app/runtime';
import { deleteKeysByPrefix, redisTarget, streamFields, testKeyPrefix, testRedisConnection, waitFor } from '@app/testing';
import { evaluatorService } from '../../apps/evaluator/src/evaluator.definition';
import { executorService } from '../../apps/executor/src/executor.definition';
import { intakeService } from '../../apps/intake/src/intake.definition';
import { orchestratorService } from '../../apps/orchestrator/src/orchestrator.definition';
import { expectWrongMethod } from '../support/wrong-method';

/** How often Nest called each lifecycle hook of the probe provider. */
const hookCalls = { onModuleInit: 0, onApplicationBootstrap: 0 };

@Injectable()
class HookProbe implements OnModuleInit, OnApplicationBootstrap {
  onModuleInit(): void {
    hookCalls.onModuleInit += 1;
  }

  onApplicationBootstrap(): void {
    hookCalls.onApplicationBootstrap += 1;
  }
}

@StreamConsumer()
class RefusingConsumer {
  @EventPattern('probe.refuse')
  refuse(@Payload() message: { why: string }): void {
    throw new PermanentMessageError(`refused: ${message.why}`);
  }
}

/** A route of the service's own that answers 404 for a thing it lacks: its own words, not "no such route". */
@Controller('probe')
class ProbeController {
  @Get('records/:id')
  record(): never {
    throw new NotFoundException('no such record');
  }
}

@Module({})
class ProbeModule {
  static register(env: Environment): DynamicModule {
    return { module: ProbeModule, imports: [CoreModule.forRoot(env, 'evaluator')], controllers: [RefusingConsumer, ProbeController], providers: [HookProbe] };
  }
}

const probeService: ServiceDefinition = {
  name: 'evaluator',
  defaultPort: 0,
  module: (env) => ProbeModule.register(env),
  // As the intake strips guests' data from what it poisons: here the reason's room stays, the data's goes.
  poisonFields: (fields) => fields.map((value) => value.replace('no such room', 'kept out')),
};

describe('createServiceApp: the HTTP app with its stream consumer (real Redis)', () => {
  const prefix = testKeyPrefix('service-app');
  const redis = testRedisConnection('service-app');
  // Quick retries: an error that Nest's own filter replaced would also end in the poison stream, after 3 deliveries.
  const env = loadEnvironment({
    ...redisTarget(),
    KEY_PREFIX: prefix,
    LOG_LEVEL: 'silent',
    STREAM_MAX_DELIVERIES: '3',
    STREAM_BLOCK_MS: '100',
    STREAM_CLAIM_IDLE_MS: '100',
  });
  let app: INestApplication;

  beforeAll(async () => {
    app = await createServiceApp(probeService, env, { shutdownHooks: false });
    await app.listen(0, '127.0.0.1');
  });

  afterAll(async () => {
    await app?.close();
    await deleteKeysByPrefix(redis, prefix);
    await redis.quit();
  });

  it('given a started service, then each lifecycle hook of a provider ran exactly once', () => {
    expect(hookCalls).toEqual({ onModuleInit: 1, onApplicationBootstrap: 1 });
  });

  it("given a path no route takes, query and all, then the 404 is the API's error body, naming neither the path nor the query", async () => {
    const response = await request(app.getHttpServer()).get('/api/subjects/anna%40example.com?email=anna@example.com').expect(404);
    expect(response.body).toEqual({
      statusCode: 404,
      error: 'Not Found',
      message: 'no route takes GET at this path; the routes are listed in docs/operations.md, "Health, readiness and metrics"',
      details: [],
    });
    // What the filter leaves alone: the routes the service has, and their own 404s.
    await request(app.getHttpServer()).get('/health').expect(200);
    expect((await request(app.getHttpServer()).get('/probe/records/7').expect(404)).body).toEqual({
      statusCode: 404,
      error: 'Not Found',
      message: 'no such record',
    });
  });

  it('given a route of the service asked for under a method it does not take, then 405 names the methods it takes', async () => {
    // They were the 404 "no route takes POST at this path", as if the service had no metrics.
    for (const [method, path] of [
      ['post', '/metrics'],
      ['delete', '/health'],
      ['put', '/Health/Ready/'],
      ['post', '/probe/records/7'],
    ] as const) {
      expectWrongMethod(await request(app.getHttpServer())[method](path), method, 'GET, HEAD');
    }
    await request(app.getHttpServer()).head('/metrics').expect(200);
  });

  it("given a handler that throws a permanent error, then the transport sees that error: poisoned at the first delivery, with the handler's reason", async () => {
    const partition = keyLayoutOf(env).partitions[0];
    await redis.xadd(partition.stream('evaluator'), '*', ...encodeMessage('probe.refuse', { why: 'no such room' }));
    // Nest's own filter would have replaced the error with a retryable `{ status: 'error', message: 'Internal server error' }`.
    const [, fields] = await waitFor(async () => (await redis.xrange(partition.poison('evaluator'), '-', '+'))[0], {
      timeoutMs: 10_000,
      what: 'the refused message in the poison stream',
    });
    expect(streamFields(fields)).toMatchObject({ pattern: 'probe.refuse', reason: 'PermanentMessageError: refused: no such room', deliveries: '1' });
    // What the service's poisonFields keeps of the message, not the message as sent.
    expect(streamFields(fields).data).toBe(JSON.stringify({ why: 'kept out' }));
  });
});

/**
 * A root provider that stops slowly, as the executor does while its LLM calls finish: it waits, up
 * to a bound, for the HTTP server to stop taking connections, and says whether it did meanwhile.
 */
@Injectable()
class SlowToStop implements OnModuleDestroy {
  httpDrainedMeanwhile: boolean | undefined;

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  async onModuleDestroy(): Promise<void> {
    const server = this.adapterHost.httpAdapter.getHttpServer() as Server;
    this.httpDrainedMeanwhile = await waitFor(async () => !server.listening, { timeoutMs: 3_000, what: 'the HTTP server to stop listening' }).then(
      () => true,
      () => false,
    );
  }
}

@Module({})
class SlowToStopModule {
  static register(env: Environment): DynamicModule {
    return { module: SlowToStopModule, imports: [CoreModule.forRoot(env, 'executor')], providers: [SlowToStop] };
  }
}

describe('createServiceApp at shutdown (real Redis)', () => {
  const prefix = testKeyPrefix('service-app-drain');
  const redis = testRedisConnection('service-app-drain');

  afterAll(async () => {
    await deleteKeysByPrefix(redis, prefix);
    await redis.quit();
  });

  it('given a root provider slow to stop, then the HTTP server drains while it stops, not after it', async () => {
    const env = loadEnvironment({ ...redisTarget(), KEY_PREFIX: prefix, LOG_LEVEL: 'silent', STREAM_BLOCK_MS: '100' });
    const app = await createServiceApp({ name: 'executor', defaultPort: 0, module: (environment) => SlowToStopModule.register(environment) }, env, {
      shutdownHooks: false,
    });
    await app.listen(0, '127.0.0.1');
    const slow = app.get(SlowToStop);
    await app.close();
    // Before: the drain was CoreModule's, a global module's, whose destroy hooks Nest runs after every other module's.
    expect(slow.httpDrainedMeanwhile).toBe(true);
  });
});

describe('the services: every stream handler has PassThroughRpcFilter', () => {
  // Building the modules only: nothing connects. An API key keeps the intake from generating one.
  const env = loadEnvironment({ KEY_PREFIX: 'unused:', API_KEYS: 'operator:static-check-secret-01:operator' });
  const handlesStreamMessages = (controller: Type<unknown>) =>
    Object.getOwnPropertyNames(controller.prototype).some((name) => {
      const member: unknown = Reflect.get(controller.prototype as object, name);
      return typeof member === 'function' && Reflect.getMetadata(PATTERN_METADATA, member) !== undefined;
    });

  it.each([intakeService, orchestratorService, executorService, evaluatorService])('$name: each consumer is a @StreamConsumer()', (definition) => {
    const consumers = (definition.module(env).controllers ?? []).filter(handlesStreamMessages);
    expect(consumers.length).toBeGreaterThan(0);
    for (const consumer of consumers) {
      const filters: unknown[] = Reflect.getMetadata(EXCEPTION_FILTERS_METADATA, consumer) ?? [];
      expect({ consumer: consumer.name, passThrough: filters.some((filter) => filter instanceof PassThroughRpcFilter) }).toEqual({
        consumer: consumer.name,
        passThrough: true,
      });
    }
  });
});
