import { INestApplication } from '@nestjs/common';
import request from 'supertest';
import TestAgent from 'supertest/lib/agent';
import { Environment, loadEnvironment } from '@app/config';
import { KeyLayout, MissionStore } from '@app/event-store';
import { Mission, MissionStatus } from '@app/mission';
import { RedisConnection } from '@app/redis';
import { createServiceApp, ServiceDefinition } from '@app/runtime';
import { deleteKeysByPrefix, redisTarget, TEST_DATA_KEY_SECRET, testKeyPrefix, testRedisConnection, waitFor } from '@app/testing';
import { evaluatorService } from '../../apps/evaluator/src/evaluator.definition';
import { executorService } from '../../apps/executor/src/executor.definition';
import { intakeService } from '../../apps/intake/src/intake.definition';
import { orchestratorService } from '../../apps/orchestrator/src/orchestrator.definition';
import { ResponseContract } from './response-contract';

/** Keys every in-process system accepts, one per role. */
export const TEST_KEYS = {
  operator: 'test-operator-secret-0001',
  submitter: 'test-submitter-secret-001',
  reader: 'test-reader-secret-000001',
  reviewer: 'test-reviewer-secret-00001',
  client: 'test-client-secret-0000001',
};
/** TEST_KEYS as API_KEYS, each key named after its role; a test that needs more keys appends to it. */
export const TEST_API_KEYS = Object.entries(TEST_KEYS)
  .map(([role, secret]) => `${role}:${secret}:${role}`)
  .join(',');

export interface InProcessSystem {
  /** HTTP client for the intake, authenticated as an operator. */
  api: TestAgent;
  prefix: string;
  keys: KeyLayout;
  redis: RedisConnection;
  store: MissionStore;
  intake: INestApplication;
  apps: INestApplication[];
  /**
   * Every intake response is checked against the OpenAPI document (`/docs-json`); close() fails
   * the suite when any did not match it.
   */
  contract: ResponseContract;
  environment: Environment;
  /** Starts one more instance of a service (closed with the rest). */
  addInstance(definition: ServiceDefinition): Promise<INestApplication>;
  /** Shuts every instance of a service down as SIGTERM does (the app's close), and drops them. */
  stopService(name: ServiceDefinition['name']): Promise<void>;
  waitForStatus(missionId: string, statuses: MissionStatus[], timeoutMs?: number): Promise<Mission>;
  /**
   * Slots are released by the orchestrator after the event that ends an attempt (a message
   * written with it), so a test waits for the load rather than reading it once.
   */
  waitForLoad(agentId: string, load: number): Promise<void>;
  /** Waits until no agent holds a slot. */
  waitForIdleAgents(): Promise<void>;
  /** Missions with this status, over every log partition. */
  statusCount(status: MissionStatus): Promise<number>;
  /** Events in the log, over every partition. */
  logLength(): Promise<number>;
  close(): Promise<void>;
}

/**
 * The four services, each its own Nest application as in production, in this test process,
 * against the real Redis under a fresh KEY_PREFIX. close() stops them and deletes their keys.
 */
export async function startInProcessSystem(
  name: string,
  env: Record<string, string> = {},
  serviceEnv: Partial<Record<ServiceDefinition['name'], Record<string, string>>> = {},
): Promise<InProcessSystem> {
  const prefix = testKeyPrefix(name);
  const environmentSource = {
    ...redisTarget(),
    ...(process.env.LOG_PARTITIONS ? { LOG_PARTITIONS: process.env.LOG_PARTITIONS } : {}),
    KEY_PREFIX: prefix,
    LOG_LEVEL: 'warn',
    LOG_FORMAT: 'json',
    STREAM_BLOCK_MS: '200',
    API_KEYS: TEST_API_KEYS,
    RATE_LIMIT_PER_MINUTE: '10000000',
    AUTH_FAILURES_PER_MINUTE: '10000000',
    // Webhooks go to receivers on loopback only, whatever a test (or the API fuzzer) subscribes.
    WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
    WEBHOOK_ONLY_ALLOWED_HOSTS: 'true',
    DATA_KEY_SECRET: TEST_DATA_KEY_SECRET,
    ...env,
  };
  const environment = loadEnvironment(environmentSource);
  const apps: INestApplication[] = [];
  const serviceOf = new Map<INestApplication, ServiceDefinition['name']>();
  const envFor = (definition: ServiceDefinition) =>
    serviceEnv[definition.name] ? loadEnvironment({ ...environmentSource, ...serviceEnv[definition.name] }) : environment;
  let contract: ResponseContract | undefined;
  const addInstance = async (definition: ServiceDefinition) => {
    const app = await createServiceApp(definition, envFor(definition));
    await app.init();
    if (definition.name === 'intake') {
      contract ??= new ResponseContract((await request(app.getHttpServer()).get('/docs-json').expect(200)).body);
      contract.watch(app.getHttpServer());
    }
    apps.push(app);
    serviceOf.set(app, definition.name);
    return app;
  };
  for (const definition of [intakeService, orchestratorService, executorService, evaluatorService]) await addInstance(definition);
  // The Redis the services use: a test may give them its own (a private cluster) in `env`.
  const redis = testRedisConnection('in-process-system', environment);
  const keys = new KeyLayout(prefix, environment.LOG_PARTITIONS);
  const store = new MissionStore(redis, keys);
  return {
    api: request.agent(apps[0].getHttpServer()).set('Authorization', `Bearer ${TEST_KEYS.operator}`),
    prefix,
    keys,
    redis,
    store,
    intake: apps[0],
    apps,
    contract: contract as ResponseContract,
    environment,
    addInstance,
    async stopService(name) {
      const stopping = apps.filter((app) => serviceOf.get(app) === name);
      for (const app of stopping) apps.splice(apps.indexOf(app), 1);
      await Promise.all(stopping.map((app) => app.close()));
    },
    waitForStatus: (missionId, statuses, timeoutMs = 20_000) =>
      waitFor(
        async () => {
          const mission = await store.load(missionId);
          return mission && statuses.includes(mission.status) ? mission : null;
        },
        { timeoutMs, what: `mission ${missionId} to reach ${statuses.join('|')}` },
      ),
    async waitForLoad(agentId, load) {
      await waitFor(async () => Number((await redis.hget(keys.agentLoad, agentId)) ?? 0) === load, {
        timeoutMs: 10_000,
        what: `agent ${agentId} to hold ${load} slots`,
      });
    },
    async statusCount(status) {
      const counts = await Promise.all(keys.partitions.map((partition) => redis.hget(partition.statusCounts, status)));
      return counts.reduce((sum, count) => sum + Number(count ?? 0), 0);
    },
    async logLength() {
      const lengths = await Promise.all(keys.partitions.map((partition) => redis.xlen(partition.log)));
      return lengths.reduce((sum, length) => sum + length, 0);
    },
    async waitForIdleAgents() {
      await waitFor(async () => Object.values(await redis.hgetall(keys.agentLoad)).every((load) => load === '0'), {
        timeoutMs: 10_000,
        what: 'every agent to hold no slot',
      });
    },
    async close() {
      await Promise.all(apps.map((app) => app.close()));
      await deleteKeysByPrefix(redis, prefix);
      await redis.quit();
      const violations = (contract as ResponseContract).violations;
      if (violations.length > 0) throw new Error(`responses that do not match the OpenAPI document:\n  ${violations.join('\n  ')}`);
    },
  };
}
