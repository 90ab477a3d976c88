import { KeyLayout } from '@app/event-store';
import { MissionClient } from '@app/mission-client';
import { deleteKeysByPrefix, FakeOdooServer, testKeyPrefix, testRedisConnection, waitFor } from '@app/testing';
import { ConnectorKeys } from './connector-keys';
import { OdooClient } from './odoo-client';
import { loadOdooMapping } from './odoo-mapping';
import { OdooPoller } from './odoo-poller';
import { OdooRefusals } from './odoo-refusals';

const POLL_MS = 200;
const TIMEOUT_MS = 1_000;
/** Half a period: how long a round's lock is kept after it. */
const TURN_MS = POLL_MS / 2;

describe('OdooPoller: instances take turns (real Redis, a fake Odoo on loopback)', () => {
  const redis = testRedisConnection('odoo-poller-spec');
  let odoo: FakeOdooServer;
  let logKeys: KeyLayout;
  let keys: ConnectorKeys;

  const pollerOf = () => {
    const { ODOO_URL: url, ODOO_DB: db, ODOO_LOGIN: login, ODOO_API_KEY: apiKey } = odoo.connection;
    const client = new OdooClient({ url, db, login, apiKey, timeoutMs: TIMEOUT_MS });
    const refusals = new OdooRefusals(client, redis, keys, logKeys, { exists: async () => false }, { skillSets: async () => [] }, 'note');
    return new OdooPoller(client, new MissionClient(redis, logKeys.prefix, 1), redis, keys, loadOdooMapping(), refusals, {
      pollMs: POLL_MS,
      timeoutMs: TIMEOUT_MS,
      maxMissionTextBytes: 32_768,
      onNoteFailure: () => undefined,
    });
  };

  beforeEach(async () => {
    odoo = await FakeOdooServer.start();
    logKeys = new KeyLayout(testKeyPrefix('odoo-poller'));
    keys = new ConnectorKeys(logKeys);
  });
  afterEach(async () => {
    odoo.outage = null;
    await odoo.close();
    await deleteKeysByPrefix(redis, logKeys.prefix);
  });
  afterAll(async () => {
    await redis.quit();
  });

  it('given a round slower than half a period (an Odoo call hanging), then its lock lasts as long as the round, and no other instance starts one', async () => {
    const first = pollerOf();
    const second = pollerOf();
    odoo.outage = 'hang';
    const round = first.poll().catch((error: unknown) => error);
    // The lock used to live half a period from the round's start, whatever the round did then: a
    // second instance could start its own round while the first was still sending and reading.
    const ttl = await waitFor(async () => ((await redis.pttl(keys.pollLock)) > TURN_MS ? redis.pttl(keys.pollLock) : null), {
      timeoutMs: 5_000,
      what: 'the round to renew its lock past half a period',
    });
    expect(ttl).toBeGreaterThan(TIMEOUT_MS);
    expect(await second.poll()).toBeNull();

    odoo.outage = null;
    await round;
    // After the round, kept for half a period, as before: the instances take turns.
    const after = await redis.pttl(keys.pollLock);
    expect(after).toBeGreaterThan(0);
    expect(after).toBeLessThanOrEqual(TURN_MS);
    expect(await second.poll()).toBeNull();
  });

  it('given a round whose lock another instance holds meanwhile, then it stops at its next step', async () => {
    const poller = pollerOf();
    odoo.create('maintenance.request', { name: 'AC broken in 204', description: 'Warm air.', priority: '1' });
    odoo.outage = 'hang';
    const round = poller.poll();
    await waitFor(async () => ((await redis.pttl(keys.pollLock)) > TURN_MS ? true : null), { timeoutMs: 5_000, what: 'the round to start' });
    // As if the lock had lapsed during the hanging call and another instance had taken it.
    await redis.set(keys.pollLock, 'another-instance', 'PX', 10_000);
    odoo.outage = null;
    await round.catch(() => undefined);
    expect(await redis.get(keys.pollLock)).toBe('another-instance');
    // The rules after the one that hung were left to the lock's holder: nothing was taken in.
    expect(await redis.hlen(keys.submitted)).toBe(0);
  });
});
