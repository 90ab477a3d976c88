import { getEventListeners } from 'node:events';
import { PinoLogger } from 'nestjs-pino';
import { Environment } from '@app/config';
import { KeyLayout } from '@app/event-store';
import { deleteKeysByPrefix, testKeyPrefix, testRedisConnection, waitFor } from '@app/testing';
import { ConnectorHost, OdooStatus } from './connector-host';
import { ConnectorKeys } from './connector-keys';
import { ConnectorMetrics } from './connector-metrics';
import { OdooClient, OdooRpcError, OdooUnavailableError } from './odoo-client';
import { OdooMissionIdentity } from './odoo-mission-identity';
import { OdooPollError } from './odoo-poll-error';
import { NOT_DUE, OdooPoller } from './odoo-poller';
import { OdooWriteBack } from './odoo-write-back';

describe('ConnectorHost (real Redis)', () => {
  const redis = testRedisConnection('connector-host-spec');
  const logKeys = new KeyLayout(testKeyPrefix('connector-host'));

  afterAll(async () => {
    await deleteKeysByPrefix(redis, logKeys.prefix);
    await redis.quit();
  });
  /** An Odoo whose login checks (made while another instance polls) succeed. */
  const answeringOdoo = { abortCalls: () => undefined, checkLogin: async () => undefined };
  /**
   * A host polling with `poller` every millisecond (and backing off from 1 ms), logging to `logger`,
   * checking its login with `odoo` when poll says it is another instance's turn, its write-back and
   * metrics idle, its shared status under `keys`; `env` sets other periods.
   */
  const hostOf = (
    poller: Pick<OdooPoller, 'poll'>,
    logger: PinoLogger,
    odoo: Pick<OdooClient, 'abortCalls' | 'checkLogin'> = answeringOdoo,
    keys = new ConnectorKeys(logKeys),
    env: Pick<Environment, 'ODOO_POLL_MS' | 'ODOO_BACKOFF_MS'> = { ODOO_POLL_MS: 1, ODOO_BACKOFF_MS: 1 },
  ) =>
    new ConnectorHost(
      redis,
      env as Environment,
      logKeys,
      keys,
      poller as OdooPoller,
      { start: () => undefined, stop: async () => undefined } as unknown as OdooWriteBack,
      odoo as OdooClient,
      { polled: () => undefined, pollFailed: () => undefined } as unknown as ConnectorMetrics,
      new OdooMissionIdentity('test-odoo-api-key'),
      logger,
    );
  const quiet = { warn: () => undefined, info: () => undefined, debug: () => undefined } as unknown as PinoLogger;
  /** A promise (`reached`) that a test's fake resolves (`reach`) once the rounds it waits for were made. */
  const milestone = () => {
    let reach: () => void = () => undefined;
    const reached = new Promise<void>((resolve) => (reach = resolve));
    return { reached, reach };
  };
  /**
   * The own status a host saw at the start of each round, its poller answering `outcomes` in turn
   * (then not due again), its login checks made with `odoo`, its shared status under a prefix named `name`.
   */
  const ownStatusesOver = async (
    name: string,
    outcomes: (Error | number | null | typeof NOT_DUE)[],
    odoo: Pick<OdooClient, 'abortCalls' | 'checkLogin'> = answeringOdoo,
  ) => {
    const keys = new ConnectorKeys(new KeyLayout(testKeyPrefix(name)));
    const seen: { reachable: boolean; lastError: string | null }[] = [];
    let host: ConnectorHost | undefined;
    let reached: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (reached = resolve));
    const poller = {
      poll: async () => {
        // What the round before this one left: a poll that would have seen it ready in between would flap.
        const { reachable, lastError } = (host as ConnectorHost).ownStatus;
        seen.push({ reachable, lastError });
        const outcome = outcomes.shift();
        if (outcome === undefined) {
          reached();
          return NOT_DUE;
        }
        if (outcome instanceof Error) throw outcome;
        return outcome;
      },
    };
    host = hostOf(poller, quiet, odoo, keys);
    try {
      host.onApplicationBootstrap();
      await done;
    } finally {
      await host.onModuleDestroy();
      await redis.del(keys.odooStatus);
    }
    return seen;
  };

  it('given many polls, when each wait ends by its timer, then no abort listener is left behind on the pause signal', async () => {
    const POLLS = 15;
    let polls = 0;
    let reached: () => void = () => undefined;
    const enough = new Promise<void>((resolve) => (reached = resolve));
    // Another instance's turn every time: the loop only polls and waits.
    const poller = {
      poll: async () => {
        if (++polls === POLLS) reached();
        return null;
      },
    };
    const writeBack = { start: () => undefined, stop: async () => undefined };
    const env = { ODOO_POLL_MS: 1, ODOO_BACKOFF_MS: 1 } as Environment;
    const logger = { warn: () => undefined } as unknown as PinoLogger;
    const host = new ConnectorHost(
      redis,
      env,
      logKeys,
      new ConnectorKeys(logKeys),
      poller as unknown as OdooPoller,
      writeBack as unknown as OdooWriteBack,
      answeringOdoo as unknown as OdooClient,
      {} as ConnectorMetrics,
      new OdooMissionIdentity('test-odoo-api-key'),
      logger,
    );
    host.onApplicationBootstrap();
    await enough;
    // Each wait added a listener it never removed: one per poll, and Node warned after ten.
    const listeners = getEventListeners(host['pause'].signal, 'abort').length;
    await host.onModuleDestroy();
    expect(listeners).toBeLessThanOrEqual(1);
  });

  it("given a poll failing with Odoo's Retry-After, then the next poll waits at least that long, whatever the backoff says", async () => {
    const polledAt: number[] = [];
    let reached: () => void = () => undefined;
    const twice = new Promise<void>((resolve) => (reached = resolve));
    const poller = {
      poll: async () => {
        polledAt.push(Date.now());
        if (polledAt.length === 2) reached();
        if (polledAt.length === 1) throw new OdooUnavailableError('Odoo answered common.authenticate with HTTP 429', { retryAfterMs: 400 });
        return null;
      },
    };
    const host = hostOf(poller, quiet);
    host.onApplicationBootstrap();
    await twice;
    await host.onModuleDestroy();
    // ODOO_BACKOFF_MS (1 ms) alone: polled again at once, while Odoo asked for a wait.
    expect(polledAt[1] - polledAt[0]).toBeGreaterThanOrEqual(390);
  });

  it('given Odoo failing the same way poll after poll, then it is logged once with its reason and no stack, again when it changes, and its end once', async () => {
    const outcomes: (Error | number)[] = [
      new Error('Odoo did not answer common.authenticate: connect ECONNREFUSED 127.0.0.1:8069'),
      new Error('Odoo did not answer common.authenticate: connect ECONNREFUSED 127.0.0.1:8069'),
      new Error('Odoo did not answer common.authenticate: connect ECONNREFUSED 127.0.0.1:8069'),
      new Error('Odoo answered common.authenticate with HTTP 502'),
      2,
      new Error('Odoo answered common.authenticate with HTTP 502'),
      new OdooPollError(['rule helpdesk failed'], 1),
      1,
    ];
    let reached: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (reached = resolve));
    const poller = {
      poll: async () => {
        const outcome = outcomes.shift();
        if (outcomes.length === 0) reached();
        if (outcome instanceof Error) throw outcome;
        return outcome ?? null;
      },
    };
    const lines: { level: string; fields: object; message: string }[] = [];
    const at = (level: string) => (fields: object, message: string) => lines.push({ level, fields, message });
    const logger = { warn: at('warn'), info: at('info'), debug: at('debug') } as unknown as PinoLogger;
    const host = hostOf(poller, logger);
    host.onApplicationBootstrap();
    await done;
    await host.onModuleDestroy();
    // Each failed poll was a warning with the error's 9-frame stack, and the reason was only "fetch failed".
    expect(lines.filter((line) => line.level !== 'debug')).toEqual([
      {
        level: 'warn',
        fields: { reason: 'Odoo did not answer common.authenticate: connect ECONNREFUSED 127.0.0.1:8069', failures: 1 },
        message: expect.stringMatching(/^polling Odoo failed; backing off/),
      },
      {
        level: 'warn',
        fields: { reason: 'Odoo answered common.authenticate with HTTP 502', failures: 4 },
        message: expect.stringMatching(/^polling Odoo failed/),
      },
      { level: 'info', fields: { failedPolls: 4 }, message: 'polling Odoo works again' },
      // The same reason after Odoo answered again is a new outage, said again.
      {
        level: 'warn',
        fields: { reason: 'Odoo answered common.authenticate with HTTP 502', failures: 1 },
        message: expect.stringMatching(/^polling Odoo failed/),
      },
      // Some rules failed: no backing off, and said so.
      { level: 'warn', fields: { reason: 'rule helpdesk failed', failures: 2 }, message: expect.stringMatching(/^polling Odoo failed for some rules/) },
      { level: 'info', fields: { failedPolls: 2 }, message: 'polling Odoo works again' },
    ]);
  });

  it("given it is always another instance's turn, then its own login checks make its readiness, and another instance's poll in the shared status does not", async () => {
    const keys = new ConnectorKeys(new KeyLayout(testKeyPrefix('connector-host-standby')));
    // Another instance's failed poll, as a misconfigured one writes it: it made every instance 503.
    const othersPoll = 'Odoo refused the login brain@hotel.example on database hotel (wrong login or API key)';
    await redis.hset(keys.odooStatus, { reachable: '0', lastError: othersPoll, checkedAt: new Date().toISOString() });
    // Its own checks: one that succeeds, then one that fails (its key revoked meanwhile).
    const revoked = new OdooRpcError('Odoo res.users.read failed: Access Denied (odoo.exceptions.AccessDenied)', 'odoo.exceptions.AccessDenied');
    const checks: (Error | null)[] = [null, revoked];
    const seen: OdooStatus[] = [];
    let host: ConnectorHost | undefined;
    let reached: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (reached = resolve));
    const poller = {
      poll: async () => {
        seen.push({ ...(host as ConnectorHost).ownStatus });
        if (checks.length === 0) reached();
        return null;
      },
    };
    const odoo = {
      abortCalls: () => undefined,
      checkLogin: async () => {
        const failure = checks.shift();
        if (failure) throw failure;
      },
    };
    host = hostOf(poller, quiet, odoo, keys);
    try {
      host.onApplicationBootstrap();
      await done;
      expect(await redis.hget(keys.odooStatus, 'lastError')).toBe(othersPoll);
    } finally {
      await host.onModuleDestroy();
      await redis.del(keys.odooStatus);
    }
    expect(seen.slice(0, 3)).toEqual([
      { reachable: false, lastError: 'no call to Odoo made yet', checkedAt: null },
      { reachable: true, lastError: null, checkedAt: expect.any(String) },
      { reachable: false, lastError: revoked.message, checkedAt: expect.any(String) },
    ]);
  });

  it('given a poll where some rules failed, then login checks in the rounds after leave it unready naming them, until a poll of its own succeeds', async () => {
    // Its poll, two rounds of another instance, its poll again.
    const seen = await ownStatusesOver('connector-host-rules', [
      new OdooPollError(['rule ghost-tickets: Object ghost.ticket does not exist'], 1),
      null,
      null,
      2,
    ]);
    const rules = 'rule ghost-tickets: Object ghost.ticket does not exist';
    expect(seen).toEqual([
      { reachable: false, lastError: 'no call to Odoo made yet' },
      { reachable: false, lastError: rules },
      { reachable: false, lastError: rules },
      { reachable: false, lastError: rules },
      { reachable: true, lastError: null },
    ]);
  });
  it('given its own poll failing on every rule (a model this Odoo lacks), then a retry not yet due checks nothing, and login checks after leave it unready until a poll of its own succeeds', async () => {
    const ghost = new OdooRpcError('Object ghost.ticket does not exist', 'builtins.KeyError');
    let checks = 0;
    const odoo = {
      abortCalls: () => undefined,
      checkLogin: async () => {
        checks++;
      },
    };
    // Its poll, its own retry before its lock lapsed, two rounds of another instance, its poll again.
    const seen = await ownStatusesOver('connector-host-all-rules', [ghost, NOT_DUE, null, null, 2], odoo);
    // A single instance's retry found its own lock, checked its login instead and was ready: 503, 200, 503 every cycle.
    expect(checks).toBe(2);
    expect(seen).toEqual([
      { reachable: false, lastError: 'no call to Odoo made yet' },
      { reachable: false, lastError: ghost.message },
      { reachable: false, lastError: ghost.message },
      { reachable: false, lastError: ghost.message },
      { reachable: false, lastError: ghost.message },
      { reachable: true, lastError: null },
    ]);
  });

  it('given its own poll failing as Odoo is down, then a login check that succeeds makes it ready: the check finds what the poll did', async () => {
    const down = new OdooUnavailableError('Odoo did not answer common.authenticate: connect ECONNREFUSED 127.0.0.1:8069');
    // Its poll, then a round of another instance.
    const seen = await ownStatusesOver('connector-host-down', [down, null]);
    expect(seen).toEqual([
      { reachable: false, lastError: 'no call to Odoo made yet' },
      { reachable: false, lastError: down.message },
      { reachable: true, lastError: null },
    ]);
  });

  it("given it is always another instance's turn and its login checks keep failing, then it checks again at least once a period, never backing off past it", async () => {
    const CHECKS = 13;
    const checkedAt: number[] = [];
    let reached: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (reached = resolve));
    const odoo = {
      abortCalls: () => undefined,
      checkLogin: async () => {
        checkedAt.push(Date.now());
        if (checkedAt.length === CHECKS) reached();
        throw new OdooUnavailableError('Odoo did not answer res.users.read: connect ECONNREFUSED 127.0.0.1:8069');
      },
    };
    const host = hostOf({ poll: async () => null }, quiet, odoo);
    host.onApplicationBootstrap();
    await done;
    await host.onModuleDestroy();
    const gaps = checkedAt.slice(1).map((at, i) => at - checkedAt[i]);
    // ODOO_POLL_MS is 1 ms: the checks' own backoff doubled to 2 s by the 13th, and to 5 minutes in an outage (readiness back that late).
    expect(Math.max(...gaps)).toBeLessThan(500);
  });

  it('given Odoo down, then polls still wait out their backoff, and its login is checked a period apart in between', async () => {
    // The backoff ten periods long: a check comes in each gap between polls even when the timers fire late.
    const [POLL_MS, BACKOFF_MS] = [30, 300];
    const down = () => new OdooUnavailableError('Odoo did not answer common.authenticate: connect ECONNREFUSED 127.0.0.1:8069');
    const rounds: { at: number; poll: boolean }[] = [];
    let reached: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (reached = resolve));
    const poller = {
      poll: async () => {
        rounds.push({ at: Date.now(), poll: true });
        if (rounds.filter((round) => round.poll).length === 4) reached();
        throw down();
      },
    };
    const odoo = {
      abortCalls: () => undefined,
      checkLogin: async () => {
        rounds.push({ at: Date.now(), poll: false });
        throw down();
      },
    };
    const host = hostOf(poller, quiet, odoo, undefined, { ODOO_POLL_MS: POLL_MS, ODOO_BACKOFF_MS: BACKOFF_MS });
    // Connected first: the first failed poll's write of odoo-status waited for the connection, under
    // load past the first gap, which then had no check.
    await redis.ping();
    host.onApplicationBootstrap();
    await done;
    await host.onModuleDestroy();
    const polls = rounds.filter((round) => round.poll).map((round) => round.at);
    const checks = rounds.filter((round) => !round.poll).map((round) => round.at);
    // Doubling from ODOO_BACKOFF_MS, as before.
    polls.slice(1).forEach((at, i) => expect(at - polls[i]).toBeGreaterThanOrEqual(BACKOFF_MS * 2 ** i - 1));
    // Only polls were made, each after its whole backoff (up to 5 minutes): readiness came back that late after Odoo did.
    polls.slice(1).forEach((at, i) => expect(checks.filter((check) => check > polls[i] && check < at).length).toBeGreaterThanOrEqual(1));
    // A period apart: a down Odoo gets no more than a call a period, and the poll when it is due.
    expect(checks.length).toBeLessThanOrEqual((polls[3] - polls[0]) / POLL_MS + 3);
  });

  it('given polls that time out while its login checks succeed, then the polls keep backing off, and it is ready only until the poll after its first check fails', async () => {
    const [POLL_MS, BACKOFF_MS, POLLS] = [20, 5, 8];
    // What a poll's heavy reads meet behind a proxy while the light login check still answers.
    const timedOut = () => new OdooUnavailableError('Odoo did not answer object.execute_kw within 100 ms', { outcomeUnknown: true, underLoad: true });
    const polls: number[] = [];
    const readiness: boolean[] = [];
    const enough = milestone();
    let host: ConnectorHost | undefined;
    const poller = {
      poll: async () => {
        readiness.push((host as ConnectorHost).ownStatus.reachable);
        polls.push(Date.now());
        if (polls.length === POLLS) enough.reach();
        throw timedOut();
      },
    };
    const odoo = {
      abortCalls: () => undefined,
      checkLogin: async () => {
        readiness.push((host as ConnectorHost).ownStatus.reachable);
      },
    };
    host = hostOf(poller, quiet, odoo, undefined, { ODOO_POLL_MS: POLL_MS, ODOO_BACKOFF_MS: BACKOFF_MS });
    host.onApplicationBootstrap();
    await enough.reached;
    await host.onModuleDestroy();
    // Each check's success reset the backoff: a timed-out round of heavy reads every period, for ever.
    polls.slice(1).forEach((at, i) => expect(at - polls[i]).toBeGreaterThanOrEqual(BACKOFF_MS * 2 ** i - 1));
    // Ready after each check, unready after each poll: it flapped every few periods.
    const becameReady = readiness.filter((ready, i) => ready && !readiness[i - 1]).length;
    expect(becameReady).toBe(1);
  });

  it('given Odoo down again for the poll right after its first successful check (flickering as it comes back), then a check makes it ready again within a period, not after the backoff', async () => {
    const [POLL_MS, BACKOFF_MS] = [20, 300];
    const refused = () => new OdooUnavailableError('Odoo did not answer object.execute_kw: connect ECONNREFUSED 127.0.0.1:8069');
    const polls: number[] = [];
    const checkedAfterBlip = milestone();
    const polledAgain = milestone();
    const poller = {
      poll: async () => {
        polls.push(Date.now());
        if (polls.length <= 2) throw refused();
        polledAgain.reach();
        return null;
      },
    };
    const odoo = {
      abortCalls: () => undefined,
      checkLogin: async () => {
        if (polls.length === 2) checkedAfterBlip.reach();
      },
    };
    const host = hostOf(poller, quiet, odoo, undefined, { ODOO_POLL_MS: POLL_MS, ODOO_BACKOFF_MS: BACKOFF_MS });
    host.onApplicationBootstrap();
    // Taken for a poll problem no check sees, the refusal kept it 503, with no check, until its backoff ran out.
    const first = await Promise.race([checkedAfterBlip.reached.then(() => 'check'), polledAgain.reached.then(() => 'poll')]);
    await waitFor(async () => host.ownStatus.reachable || polls.length > 2, {
      timeoutMs: 5_000,
      intervalMs: 1,
      what: 'the check after the blip to make it ready',
    });
    const ready = host.ownStatus.reachable;
    const pollsWhenReady = polls.length;
    await host.onModuleDestroy();
    expect({ first, ready, pollsWhenReady }).toEqual({ first: 'check', ready: true, pollsWhenReady: 2 });
  });

  it("given its own rule failing while another instance's polls succeed, then a turn taken early that fails the same way is not taken again until it polls on its own schedule", async () => {
    const POLL_MS = 300;
    const keys = new ConnectorKeys(new KeyLayout(testKeyPrefix('connector-host-turns')));
    /** Its own poll, failing on a rule of its own. */
    const ownPoll = async (): Promise<null> => {
      throw new OdooPollError(['rule extra-rule: access to x.denied refused'], 1);
    };
    /** Another instance's turn, its poll having succeeded. */
    const othersTurn = async (): Promise<null> => {
      await redis.hset(keys.odooStatus, { reachable: '1', lastError: '', checkedAt: new Date().toISOString() });
      return null;
    };
    // Its poll, another's, its early turn failing the same, another's, its poll on its own schedule, another's.
    const rounds = [ownPoll, othersTurn, ownPoll, othersTurn, ownPoll, othersTurn];
    const roundsAt: number[] = [];
    const enough = milestone();
    const poller = {
      poll: async () => {
        roundsAt.push(Date.now());
        const round = rounds.shift();
        if (round) return round();
        enough.reach();
        return NOT_DUE;
      },
      // The lock lapses at once: a turn taken early is tried 10 ms after a check.
      turnLeftMs: async () => 0,
    };
    const host = hostOf(poller, quiet, answeringOdoo, keys, { ODOO_POLL_MS: POLL_MS, ODOO_BACKOFF_MS: 1 });
    try {
      await redis.ping();
      host.onApplicationBootstrap();
      await enough.reached;
    } finally {
      await host.onModuleDestroy();
      await redis.del(keys.odooStatus);
    }
    const gaps = roundsAt.slice(1).map((at, i) => at - roundsAt[i]);
    // After another's success, it takes the next turn.
    expect(gaps[1]).toBeLessThan(POLL_MS / 2);
    // That turn failed the same way: it took one after every success of the other, polling two rounds of three.
    expect(gaps[3]).toBeGreaterThanOrEqual(POLL_MS - 1);
    // Its own poll on its schedule failed: the next success of the other gives it a turn again.
    expect(gaps[5]).toBeLessThan(POLL_MS / 2);
  });
});
