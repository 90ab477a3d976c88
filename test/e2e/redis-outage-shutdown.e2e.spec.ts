import { INestApplication } from '@nestjs/common';
import { loadEnvironment } from '@app/config';
import { RedisConnection, settlesWithin } from '@app/redis';
import { createServiceApp, REDIS } from '@app/runtime';
import { FakeOdooServer, FreezableProxy, nextEvent, PrivateRedis, startPrivateRedis, TEST_DATA_KEY_SECRET, testKeyPrefix } from '@app/testing';
import { createConnectorApp } from '../../apps/connector-odoo/src/connector-app';
import { evaluatorService } from '../../apps/evaluator/src/evaluator.definition';
import { executorService } from '../../apps/executor/src/executor.definition';
import { intakeService } from '../../apps/intake/src/intake.definition';
import { orchestratorService } from '../../apps/orchestrator/src/orchestrator.definition';

/** The lowest REDIS_LIVENESS_TIMEOUT_MS allowed: a silent network is taken for an outage within about a second. */
const LIVENESS_MS = 1_000;
/** Well under the launcher's 10 s after SIGTERM before it kills a service that has not exited. */
const CLOSED_WITHIN_MS = 4_000;
/** How long a close is waited for before it counts as hung (the old code's never ended while Redis was away). */
const HUNG_AFTER_MS = 9_000;

type Outage = 'refused' | 'silent';

// A service (or the Odoo connector) stopped while Redis was away waited on it: its stream consumer
// for the blocking reads queued for the reconnect, its sweeps and drains for their commands'
// retries, its QUITs for a reconnect. SIGTERM during an outage hung until the launcher's SIGKILL.
describe.each<[Outage, string]>([
  ['refused', 'Redis halted: connections refused'],
  ['silent', 'the network to Redis silent: a frozen proxy'],
])('every service and the Odoo connector closed during an outage (%s: %s)', (outage) => {
  let redis: PrivateRedis;
  let halted = false;
  let proxy: FreezableProxy;
  let odoo: FakeOdooServer;
  const apps = new Map<string, INestApplication>();
  /** The closes still running when the test ended (they hung), waited for once Redis is back. */
  const closing: Promise<void>[] = [];

  beforeAll(async () => {
    redis = await startPrivateRedis();
    const { hostname, port } = new URL(redis.url);
    proxy = new FreezableProxy({ host: hostname, port: Number(port) });
    await proxy.start();
    odoo = await FakeOdooServer.start();
    const source = {
      REDIS_URL: outage === 'silent' ? proxy.url : redis.url,
      REDIS_LIVENESS_TIMEOUT_MS: String(LIVENESS_MS),
      KEY_PREFIX: testKeyPrefix(`outage-shutdown-${outage}`),
      LOG_LEVEL: 'fatal',
      LOG_FORMAT: 'json',
      STREAM_BLOCK_MS: '200',
      API_KEYS: 'operator:test-operator-secret-0001:operator',
      DATA_KEY_SECRET: TEST_DATA_KEY_SECRET,
      SCHEDULE_CHECK_MS: '100',
      DEADLINE_CHECK_MS: '100',
    };
    for (const definition of [intakeService, orchestratorService, executorService, evaluatorService]) {
      const app = await createServiceApp(definition, loadEnvironment(source));
      await app.init();
      apps.set(definition.name, app);
    }
    const connector = await createConnectorApp(loadEnvironment({ ...source, ...odoo.connection, ODOO_POLL_MS: '100', ODOO_BACKOFF_MS: '50' }));
    await connector.init();
    apps.set('connector-odoo', connector);
  }, 60_000);

  afterAll(async () => {
    proxy?.thaw();
    if (halted) await redis.restart();
    await Promise.all(closing);
    await Promise.all([...apps.values()].map((app) => app.close()));
    await proxy?.stop();
    await odoo?.close();
    await redis?.stop();
  }, 60_000);

  it('given Redis is out, then each one closes within seconds', async () => {
    const lost = [...apps.values()].map((app) => nextEvent(app.get<RedisConnection>(REDIS), 'reconnecting'));
    if (outage === 'silent') proxy.freeze();
    else {
      await redis.halt();
      halted = true;
    }
    // Every app's shared connection has taken Redis for lost (a silent one within the liveness bound).
    await Promise.all(lost);

    const tookMs = await Promise.all(
      [...apps].map(async ([name, app]) => {
        const started = Date.now();
        const close = app.close();
        apps.delete(name);
        closing.push(close.catch(() => undefined));
        return [name, (await settlesWithin(close, HUNG_AFTER_MS)) ? Date.now() - started : 'hung'] as const;
      }),
    );
    const late = tookMs.filter(([, ms]) => ms === 'hung' || ms > CLOSED_WITHIN_MS);
    expect(late).toEqual([]);
  }, 60_000);
});
