import { PinoLogger } from 'nestjs-pino';
import { Environment } from '@app/config';
import { KeyLayout } from '@app/event-store';
import { MissionClient } from '@app/mission-client';
import { deleteKeysByPrefix, FakeOdooServer, testKeyPrefix, testRedisConnection, waitFor } from '@app/testing';
import { ConnectorHost } from './connector-host';
import { ConnectorKeys } from './connector-keys';
import { ConnectorMetrics } from './connector-metrics';
import { OdooClient } from './odoo-client';
import { loadOdooMapping } from './odoo-mapping';
import { OdooMissionIdentity } from './odoo-mission-identity';
import { NOT_DUE, OdooPoller } from './odoo-poller';
import { OdooRefusals } from './odoo-refusals';
import { OdooWriteBack } from './odoo-write-back';

const TIMEOUT_MS = 1_000;

/** A poll round that took the lock: who made it, when it began, and whether it failed. */
interface Round {
  instance: number;
  at: number;
  failed: boolean;
}

/**
 * Two connector instances in one process, each with its own Odoo client and poller (so its own lock
 * token) over one key prefix, polling the shipped mapping from a fake Odoo on loopback.
 */
describe('ConnectorHost, two instances (real Redis, a fake Odoo on loopback)', () => {
  const redis = testRedisConnection('connector-host-instances-spec');
  let odoo: FakeOdooServer;
  let logKeys: KeyLayout;
  let keys: ConnectorKeys;
  const hosts: ConnectorHost[] = [];
  /** Every round either instance made, in order. */
  let rounds: Round[];

  beforeEach(async () => {
    odoo = await FakeOdooServer.start();
    logKeys = new KeyLayout(testKeyPrefix('connector-host-instances'));
    keys = new ConnectorKeys(logKeys);
    rounds = [];
  });
  afterEach(async () => {
    await Promise.all(hosts.splice(0).map((host) => host.onModuleDestroy()));
    await odoo.close();
    await deleteKeysByPrefix(redis, logKeys.prefix);
  });
  afterAll(async () => {
    await redis.quit();
  });

  const quiet = { warn: () => undefined, info: () => undefined, debug: () => undefined } as unknown as PinoLogger;

  /** An instance polling every `pollMs`, backing off from `backoffMs`; its rounds are recorded in `rounds`. Not started. */
  const instanceOf = (pollMs: number, backoffMs: number): ConnectorHost => {
    const instance = hosts.length + 1;
    const client = new OdooClient(odoo.clientConnection(TIMEOUT_MS));
    const refusals = new OdooRefusals(client, redis, keys, logKeys, { load: async () => null }, { skillSets: async () => [] }, 'note');
    const poller = new OdooPoller(
      client,
      new MissionClient(redis, logKeys.prefix, 1),
      redis,
      keys,
      loadOdooMapping(),
      refusals,
      {
        pollMs,
        timeoutMs: TIMEOUT_MS,
        maxMissionTextBytes: 32_768,
        lookbackMs: 0,
        onNoteFailure: () => undefined,
        since: Date.parse('2000-01-01T00:00:00Z'),
      },
      new OdooMissionIdentity(odoo.apiKey),
    );
    const poll = poller.poll.bind(poller);
    poller.poll = async (stop) => {
      const at = Date.now();
      try {
        const outcome = await poll(stop);
        if (outcome !== null && outcome !== NOT_DUE) rounds.push({ instance, at, failed: false });
        return outcome;
      } catch (error) {
        rounds.push({ instance, at, failed: true });
        throw error;
      }
    };
    const host = new ConnectorHost(
      redis,
      { ODOO_POLL_MS: pollMs, ODOO_BACKOFF_MS: backoffMs } as Environment,
      logKeys,
      keys,
      poller,
      { start: () => undefined, stop: async () => undefined } as unknown as OdooWriteBack,
      client,
      { polled: () => undefined, pollFailed: () => undefined } as unknown as ConnectorMetrics,
      new OdooMissionIdentity(odoo.apiKey),
      quiet,
    );
    hosts.push(host);
    return host;
  };

  const ready = (host: ConnectorHost) => host.ownStatus.reachable;
  /** Whether the host is unready naming `text` (a rule, or Odoo's answer). */
  const unreadyFor = (host: ConnectorHost, text: string) => !host.ownStatus.reachable && (host.ownStatus.lastError ?? '').includes(text);

  it('given a rule failing in both instances, when it is fixed in Odoo, then the one checking its login while the other polls takes the next turn and is ready again', async () => {
    const POLL_MS = 2_000;
    // The shipped mapping's maintenance rule fails: this Odoo lacks the model. The ticket rules poll.
    odoo.records.set('helpdesk.ticket', []);
    const [first, second] = [instanceOf(POLL_MS, 50), instanceOf(POLL_MS, 50)];
    first.onApplicationBootstrap();
    await waitFor(async () => unreadyFor(first, 'maintenance-requests'), { timeoutMs: 5 * POLL_MS, what: 'the first instance to fail the maintenance rule' });
    // The second starts as the first's turn ends: it polls at once, half a period after the first,
    // and the one checking after is as far from a free lock as it can be.
    await waitFor(async () => (await redis.exists(keys.pollLock)) === 0, { timeoutMs: 5 * POLL_MS, intervalMs: 2, what: "the first round's turn to end" });
    second.onApplicationBootstrap();
    await waitFor(async () => unreadyFor(second, 'maintenance-requests'), { timeoutMs: 5 * POLL_MS, what: 'the second instance to fail the maintenance rule' });

    // While the rule still fails, one round a period as before: a checker does not take a turn on its own failure.
    await waitFor(async () => rounds.length >= 3, { timeoutMs: 3 * POLL_MS, what: 'a third round' });
    expect(rounds[2].at - rounds[1].at).toBeGreaterThan(0.75 * POLL_MS);

    odoo.records.set('maintenance.request', []);
    const fixedAt = Date.now();
    const firstSuccess = () => rounds.findIndex((round) => round.at >= fixedAt && !round.failed);
    await waitFor(async () => firstSuccess() >= 0 && rounds.length > firstSuccess() + 1, {
      timeoutMs: 10 * POLL_MS,
      what: 'a poll that succeeds, and the round after it',
    });
    // The checker's 503 lasted until timing drift gave it a turn: 33 periods in a probe. Now it takes the next one.
    const [succeeded, next] = rounds.slice(firstSuccess(), firstSuccess() + 2);
    expect(next).toEqual({ instance: 3 - succeeded.instance, at: expect.any(Number), failed: false });
    // Its own status is set once the poll's outcome is stored, just after the round is recorded.
    await waitFor(async () => ready(first) && ready(second), { timeoutMs: POLL_MS, what: 'both instances to be ready' });
  });

  it('given Odoo down until both instances back off their polls past a period, when it answers again, then both are ready within a period or two', async () => {
    const POLL_MS = 400;
    for (const model of ['helpdesk.ticket', 'maintenance.request']) odoo.records.set(model, []);
    // A failed poll waits five periods before the next.
    const [first, second] = [instanceOf(POLL_MS, 5 * POLL_MS), instanceOf(POLL_MS, 5 * POLL_MS)];
    first.onApplicationBootstrap();
    second.onApplicationBootstrap();
    await waitFor(async () => ready(first) && ready(second), { timeoutMs: 5 * POLL_MS, what: 'both instances to be ready' });

    const downAt = Date.now();
    odoo.outage = 'down';
    // No instance holds the lock for long: each polls in turn, fails, and backs off.
    const failedSinceDown = (instance: number) => rounds.some((round) => round.instance === instance && round.failed && round.at >= downAt);
    await waitFor(async () => failedSinceDown(1) && failedSinceDown(2), { timeoutMs: 10 * POLL_MS, what: 'a failed poll of each instance' });
    expect([first, second].map((host) => unreadyFor(host, 'HTTP 503'))).toEqual([true, true]);

    odoo.outage = null;
    const upAt = Date.now();
    // Each waited out its backoff (five periods here, up to 5 minutes) before its readiness came back.
    await waitFor(async () => ready(first) && ready(second), { timeoutMs: 2.5 * POLL_MS, what: 'both instances to be ready again' });
    expect(Date.now() - upAt).toBeLessThan(2.5 * POLL_MS);
  });
});
