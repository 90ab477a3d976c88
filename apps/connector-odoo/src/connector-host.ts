import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown, OnModuleDestroy } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { Environment } from '@app/config';
import { KeyLayout } from '@app/event-store';
import { ProjectionRunner } from '@app/projections';
import { closeConnection, RedisConnection, settlesWhileReachable } from '@app/redis';
import { ENVIRONMENT, REDIS } from '@app/runtime';
import { flushTracingAtShutdown } from '@app/tracing';
import { ConnectorKeys } from './connector-keys';
import { ConnectorMetrics } from './connector-metrics';
import { OdooClient, OdooRpcError, OdooUnavailableError, retryAfterOf } from './odoo-client';
import { OdooMissionIdentity } from './odoo-mission-identity';
import { OdooPollError } from './odoo-poll-error';
import { NOT_DUE, OdooPoller } from './odoo-poller';
import { OdooWriteBack } from './odoo-write-back';
import { OdooWriteBackProjection } from './odoo-write-back.projection';

/**
 * Whether a login check finds what made a poll fail: Odoo unreachable or not answering JSON-RPC, or
 * the login or key refused. Any other failure (a model this Odoo lacks) a check's success says
 * nothing of.
 */
function loginCheckTells(error: unknown): boolean {
  return error instanceof OdooUnavailableError || (error instanceof OdooRpcError && /AccessDenied/.test(error.exception));
}

/** The longest wait between two polls while Odoo fails. */
const MAX_POLL_BACKOFF_MS = 300_000;

/**
 * How long after the poll lock lapses an instance taking the next turn tries it (nextTurnMs): past
 * the expiry, well before its holder's own next round (half of ODOO_POLL_MS, at least 50 ms, later).
 */
const TURN_MARGIN_MS = 10;

/** What a call to Odoo came to: a poll's, or a login check's (ConnectorHost.ownStatus). */
export interface OdooStatus {
  reachable: boolean;
  /** Why it failed; null after a success. */
  lastError: string | null;
  checkedAt: string | null;
}

/** The `odoo-status` record: what the last poll came to, and which instance (`<host>:<pid>`) made it. */
export interface LastPoll extends OdooStatus {
  polledBy: string | null;
}

/** This process, as the shared status names the instance that polled: a misconfigured one is found by it. */
const INSTANCE = `${hostname()}:${process.pid}`;

/** Reads the shared status (unreachable until a first poll). */
export async function readLastPoll(redis: RedisConnection, keys: ConnectorKeys): Promise<LastPoll> {
  const stored = await redis.hgetall(keys.odooStatus);
  return {
    reachable: stored.reachable === '1',
    lastError: stored.lastError || (stored.checkedAt ? null : 'not polled yet'),
    checkedAt: stored.checkedAt ?? null,
    polledBy: stored.polledBy || null,
  };
}

/**
 * Runs the connector from start-up to shutdown: the poll loop (In; every ODOO_POLL_MS, backing off
 * while Odoo fails, its login checked each period meanwhile; a poll where only some rules fail keeps the period, and readiness names them), the write-back outbox over the log and the write-back worker (Out).
 * When it is another instance's turn to poll, the loop checks this instance's login instead: its
 * readiness (ownStatus) comes from its own calls to Odoo only, never from another instance's poll.
 */
@Injectable()
export class ConnectorHost implements OnApplicationBootstrap, OnModuleDestroy, OnApplicationShutdown {
  private readonly runner: ProjectionRunner;
  private polling: Promise<void> | undefined;
  private stopping = false;
  private pause = new AbortController();
  /** The failure the current outage of Odoo was logged with: the same one again is not logged until a poll (or a login check, with no rule failing) succeeds. */
  private loggedFailure: string | undefined;
  /** What this instance's own last call to Odoo came to: a poll, or a login check while another instance polls. */
  private own: OdooStatus = { reachable: false, lastError: 'no call to Odoo made yet', checkedAt: null };
  /**
   * What failed in this instance's last poll that a login check cannot see: the rules (and refusal
   * steps) that failed, or every rule failing on something else than Odoo being unreachable or
   * refusing the login (a model this Odoo lacks). A login check's success leaves it named until a
   * poll of this instance succeeds: else instances taking turns would each be ready after a check,
   * unready after a poll. Once another instance's poll succeeded, it takes the next turn (nextTurnMs),
   * unless such a turn just failed with the same problems (pollLoop's turnFailedWith).
   */
  private pollProblems: string | null = null;

  constructor(
    @Inject(REDIS) private readonly redis: RedisConnection,
    @Inject(ENVIRONMENT) private readonly env: Environment,
    keys: KeyLayout,
    private readonly connectorKeys: ConnectorKeys,
    private readonly poller: OdooPoller,
    private readonly writeBack: OdooWriteBack,
    private readonly odoo: OdooClient,
    private readonly metrics: ConnectorMetrics,
    identity: OdooMissionIdentity,
    @InjectPinoLogger(ConnectorHost.name) private readonly logger: PinoLogger,
  ) {
    this.runner = new ProjectionRunner(redis, keys, new OdooWriteBackProjection(connectorKeys, identity), {
      onError: (error) => logger.warn({ err: error }, 'Odoo write-back outbox failed to read or apply a batch; retrying'),
      onRecovered: (failures, forMs) => logger.info({ failures, forMs }, 'Odoo write-back outbox reads and applies batches again'),
    });
  }

  onApplicationBootstrap(): void {
    this.stopping = false;
    this.pause = new AbortController();
    this.polling = this.pollLoop();
    this.runner.start();
    this.writeBack.start();
  }

  /**
   * Ends the calls to Odoo in flight and waits for the poll and the write-back in progress, which
   * start no further step, unless Redis is lost (at once or meanwhile): they then wait out their
   * commands' retries, and a later poll takes up what they left, as after a crash. A hanging Odoo
   * held the shutdown for ODOO_TIMEOUT_MS per call of a whole round and up to ten write-backs.
   */
  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    this.pause.abort();
    this.odoo.abortCalls();
    const polled = this.polling ? settlesWhileReachable(this.redis, this.polling) : undefined;
    await Promise.all([polled, this.runner.stop(), this.writeBack.stop()]);
  }

  async onApplicationShutdown(): Promise<void> {
    // The last polls' and write-backs' spans go out before the process ends.
    await flushTracingAtShutdown((message) => this.logger.warn(message));
    await closeConnection(this.redis).catch(() => undefined);
  }

  /**
   * This instance's readiness as to Odoo: its own last call (a poll, or a login check when another
   * instance polled), never another instance's poll. The shared status said one instance's wrong key
   * for all: the misconfigured one was ready whenever a good one had just polled, and the good ones
   * unready whenever it had failed a round. So one that has not polled is ready on its checks while
   * another's polls fail a rule: rules are tried by a poll only, and its instance is unready naming them.
   */
  get ownStatus(): OdooStatus {
    return this.own;
  }

  private async pollLoop(): Promise<void> {
    let failures = 0;
    /** Rounds (polls, or login checks) that failed, wholly or for some rules, since the last that did not: for the line that says it works again. */
    let failedPolls = 0;
    /** What the last failure's Retry-After asked to wait (ms): a 429's, or a 503's. */
    let retryAfterMs = 0;
    /**
     * When the next poll is due (Date.now()) while polls back off past a period, after a poll that
     * failed in a way a login check finds (Odoo unreachable, or refusing the login): until then each
     * round is a login check, a period apart. 0: the next round polls.
     */
    let pollDueAt = 0;
    /**
     * Whether a login check succeeded, and none failed, since this instance's last poll, which
     * failed: Odoo answers its login, so the next poll failing again under load (a timeout on the
     * heavy reads, a proxy's 504, a 429: OdooUnavailableError.underLoad) is a poll problem no check
     * sees. Taken for an outage, each check reset the backoff and the readiness flapped: a round of
     * timed-out polls every period. A refused connection or Odoo's own 5xx then is Odoo down again
     * (it flickers as it comes back), which checks do see: made sticky, it kept the instance 503
     * for the whole backoff, up to 5 minutes, with Odoo back.
     */
    let answeredSinceFailedPoll = false;
    /** Whether this round's poll is a turn taken early (nextTurnMs), after another instance's poll succeeded. */
    let earlyTurn = false;
    /**
     * The poll problems an early turn failed with again: no further turn is taken early while they
     * stay the same, until this instance polls on its own schedule. Else one whose own rule fails
     * took a turn after each success of another instance: it polled two rounds of three, and the
     * shared odoo-status flipped every round.
     */
    let turnFailedWith: string | null = null;
    while (!this.stopping) {
      retryAfterMs = 0;
      const tookTurn: boolean = earlyTurn;
      earlyTurn = false;
      const problemsBefore = this.pollProblems;
      /** Whether this round checks the login between polls backing off, not at another instance's turn. */
      const betweenPolls = pollDueAt !== 0;
      /** Whether this round checks the login: another instance's turn to poll, or polls backing off. */
      let checking = false;
      /** Whether it is to take the next turn to poll (nextTurnMs). */
      let wantsTurn = false;
      const why = betweenPolls ? 'polls back off meanwhile' : 'another instance polls';
      try {
        // Polls backing off after an outage left several instances without a turn to check on: each
        // waited out its own backoff (up to 5 minutes) before its readiness came back.
        const submitted = betweenPolls ? null : await this.poller.poll(this.pause.signal);
        // Its own last round still holds the lock (a retry sooner than half a period): no instance
        // polls meanwhile, and a login check's success made a poll failing on every rule look ready.
        if (submitted === NOT_DUE) {
          await this.waitFor(this.backoffOf(failures, false, 0));
          continue;
        }
        if (submitted === null) {
          // Another instance's turn (its poll says nothing of this one's login, key or way to Odoo), or
          // polls backing off: a check tells when Odoo answers again.
          checking = true;
          await this.odoo.checkLogin();
        } else {
          this.metrics.polled(submitted);
          this.pollProblems = null;
          failures = 0;
          turnFailedWith = null;
          await this.redis.hset(this.connectorKeys.odooStatus, { reachable: '1', lastError: '', checkedAt: new Date().toISOString(), polledBy: INSTANCE });
        }
        this.own = { reachable: this.pollProblems === null, lastError: this.pollProblems, checkedAt: new Date().toISOString() };
        // Odoo answers this instance: the poll is due (a check ends the wait), its backoff stays until a
        // poll succeeds. Rules that failed in its last poll still fail as far as it knows: they end nothing.
        if (this.pollProblems === null) pollDueAt = 0;
        answeredSinceFailedPoll = checking ? answeredSinceFailedPoll || failures > 0 : false;
        wantsTurn = checking && this.pollProblems !== null && this.pollProblems !== turnFailedWith;
        if (this.pollProblems === null) {
          if (this.loggedFailure !== undefined)
            this.logger.info({ failedPolls }, checking ? `checking the login to Odoo works again (${why})` : 'polling Odoo works again');
          failedPolls = 0;
          this.loggedFailure = undefined;
        }
      } catch (error) {
        // A call the stop ended says nothing of Odoo, which this instance's readiness would report.
        if (this.stopping) break;
        // Some rules failed, the others were polled: Odoo answers, so the period stays as it is.
        const partial = error instanceof OdooPollError;
        retryAfterMs = retryAfterOf(error);
        if (partial) {
          this.metrics.polled(error.submitted);
          failures = 0;
        }
        // A login check is no poll: a failed one does not grow the poll's backoff (nor waits past a period, backoffOf).
        else if (!checking) failures++;
        failedPolls++;
        const message = error instanceof Error ? error.message : String(error);
        const checkSees = loginCheckTells(error) && !(answeredSinceFailedPoll && error instanceof OdooUnavailableError && error.underLoad);
        answeredSinceFailedPoll = false;
        if (partial || (!checking && !checkSees)) this.pollProblems = message;
        // A check finds when Odoo answers again: polls wait out their backoff, checks a period at most.
        else if (!checking) pollDueAt = Date.now() + this.backoffOf(failures, false, retryAfterMs);
        this.own = { reachable: false, lastError: message, checkedAt: new Date().toISOString() };
        if (!checking) {
          turnFailedWith = tookTurn && this.pollProblems !== null && this.pollProblems === problemsBefore ? this.pollProblems : null;
          this.metrics.pollFailed();
          await this.redis
            .hset(this.connectorKeys.odooStatus, { reachable: '0', lastError: message, checkedAt: new Date().toISOString(), polledBy: INSTANCE })
            .catch(() => undefined);
        }
        // Once per outage and cause, with the cause and no stack: a poll every backoff step of a long
        // outage logged the same 9-frame trace each time, and fetch's message alone hid why.
        if (message !== this.loggedFailure) {
          this.logger.warn(
            { reason: message, failures: failedPolls },
            checking
              ? `checking the login to Odoo failed (${why}); backing off (logged again when the reason changes, and once Odoo answers)`
              : partial
                ? 'polling Odoo failed for some rules; the others were polled (logged again when the reason changes, and once all are)'
                : 'polling Odoo failed; backing off (logged again when the reason changes, and once Odoo answers)',
          );
          this.loggedFailure = message;
        } else
          this.logger.debug({ reason: message, failures: failedPolls }, checking ? 'checking the login to Odoo failed again' : 'polling Odoo failed again');
      }
      const wait = wantsTurn ? await this.nextTurnMs() : this.waitMs(failures, checking, retryAfterMs, pollDueAt);
      earlyTurn = wantsTurn && wait < this.env.ODOO_POLL_MS;
      // The poll is due by the end of this wait: the next round makes it.
      if (pollDueAt - Date.now() <= wait) pollDueAt = 0;
      await this.waitFor(wait);
    }
  }

  /**
   * When to try the poll lock again after a login check that succeeded while the rules of this
   * instance's own last poll still fail (pollProblems), which only a poll of its own clears. Turns
   * did not bring one: the holder polls a period after its round, a checker checks a period after
   * its check, and which finds the lock free drifts a few ms a cycle, so after the rules were fixed
   * a checker stayed 503 for hours at a 30 s period. Once the shared status shows a poll after its
   * own that succeeded, it tries as the lock lapses, before the holder's next round; while the last
   * poll failed too, a period as before, so that instances all failing a rule poll no more often.
   */
  private async nextTurnMs(): Promise<number> {
    try {
      if (!(await readLastPoll(this.redis, this.connectorKeys)).reachable) return this.env.ODOO_POLL_MS;
      return Math.min(this.env.ODOO_POLL_MS, (await this.poller.turnLeftMs()) + TURN_MARGIN_MS);
    } catch {
      // Redis failing: the next round meets it, and says so.
      return this.env.ODOO_POLL_MS;
    }
  }

  /**
   * How long to wait before the next round, after `failures` polls that failed in a row. After a
   * login check (another instance's turn), at most ODOO_POLL_MS: a standby's failed checks doubled
   * its wait up to 5 minutes, and after an outage its readiness came back that much later.
   */
  private backoffOf(failures: number, checking: boolean, retryAfterMs: number): number {
    const backoff = failures === 0 ? this.env.ODOO_POLL_MS : Math.min(MAX_POLL_BACKOFF_MS, this.env.ODOO_BACKOFF_MS * 2 ** Math.min(failures - 1, 20));
    // A rate-limited Odoo asked for a wait: polling before it only prolongs the limit.
    return Math.max(checking ? Math.min(backoff, this.env.ODOO_POLL_MS) : backoff, retryAfterMs);
  }

  /**
   * How long to wait before the next round: the backoff (backoffOf), or, while polls back off past
   * a period (pollDueAt), a period at most until the poll is due, as a check comes first.
   */
  private waitMs(failures: number, checking: boolean, retryAfterMs: number, pollDueAt: number): number {
    if (pollDueAt === 0) return this.backoffOf(failures, checking, retryAfterMs);
    return Math.max(0, Math.min(this.env.ODOO_POLL_MS, pollDueAt - Date.now()), retryAfterMs);
  }

  private async waitFor(ms: number): Promise<void> {
    // timers/promises drops its abort listener when the wait ends: one added per wait and left on the
    // signal piled up a listener per poll (MaxListenersExceededWarning after ten).
    await sleep(ms, undefined, { signal: this.pause.signal }).catch(() => undefined);
  }
}
