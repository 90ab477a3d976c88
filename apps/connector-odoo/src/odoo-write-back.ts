import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '@nestjs/common';
import { SpanKind } from '@opentelemetry/api';
import { MissionStore } from '@app/event-store';
import { MissionPersonalData } from '@app/guest-data';
import { FailureStreak } from '@app/logging';
import { Mission, SERVICE_ACTORS } from '@app/mission';
import { LuaScript, luaEnum, RedisConnection, settlesWhileReachable } from '@app/redis';
import { nextStep, RetryPolicy } from '@app/runtime';
import { annotateSpan, KeptTraceContext, markSpanFailed } from '@app/tracing';
import { ConnectorKeys } from './connector-keys';
import { ChatterPostAs, escapeHtml, postToChatterOnce, uncertainPostSettleMs } from './odoo-chatter';
import { isRecordGone, OdooClient, retryAfterOf } from './odoo-client';
import { OdooMapping } from './odoo-mapping';
import { UncertainChatterPostError } from './uncertain-chatter-post-error';

enum RecordCode {
  Recorded = 0,
  Already = 1,
}

const LUA_DIR = join(__dirname, 'lua');
const claimScript = new LuaScript(LUA_DIR, 'claim-odoo-write-backs-1');
const recordScript = new LuaScript(LUA_DIR, 'record-odoo-write-back-4', { constants: { CODE: luaEnum(RecordCode) } });

/** A write-back given up: its record is gone from Odoo (deleted or merged), so no retry could post it. */
export interface AbandonedWriteBack {
  missionId: string;
  model: string;
  recordId: number;
  reason: string;
  abandonedAt: string;
}

/**
 * Why a listed write-back is not made when due. `failing`: it failed, and is tried again at
 * `nextAttemptAt` (its backoff). `rate-limited`: Odoo asked to wait (a Retry-After on a 429 or a
 * 5xx), and it is not tried before `nextAttemptAt`, when that wait ends.
 */
export type DelayedWriteBackStatus = 'failing' | 'rate-limited';

/**
 * A write-back still to be made that has failed at least once, or that Odoo's rate limit holds
 * (`attempts` 0, `lastError` and `failingSince` null while none failed), as GET /connector/write-backs lists it.
 */
export interface DelayedWriteBack {
  missionId: string;
  model: string;
  recordId: number;
  status: DelayedWriteBackStatus;
  attempts: number;
  lastError: string | null;
  failingSince: string | null;
  nextAttemptAt: string | null;
}

export interface WriteBackOptions {
  postAs: ChatterPostAs;
  /** Delay before the first retry; it doubles up to 5 minutes. Write-backs are retried until they succeed. */
  backoffMs: number;
  timeoutMs: number;
  pollMs?: number;
  clock?: () => number;
  onFailure?: (missionId: string, error: unknown) => void;
  onPosted?: () => void;
  /** With tracing on, each write-back is a span in its mission's trace; absent or off, nothing is read for it. */
  tracing?: KeptTraceContext;
}

const MAX_BACKOFF_MS = 300_000;

const logger = new Logger('OdooWriteBack');

/** Write-backs one runOnce makes at most, one claimed after the other. */
const RUN_LIMIT = 10;

/**
 * Calls to Odoo one write-back makes at most: a login again after an error, the version (once per
 * client), the chatter search, and the post and the stage change (or, when the post is refused as
 * missing a record, the count that tells whether it is the write-back's own). Its claim lasts one more call than that (and at
 * least uncertainPostSettleMs), so another instance cannot take it up while it is made (it used to claim ten at once for two calls' time: another instance
 * took up the ones still waiting, or the one in hand, and posted them at the same moment).
 */
const WRITE_BACK_CALLS = 5;

/** A failing write-back's record in `failures`; `uncertainSince`: when a post of it had an unknown outcome (ms). */
interface FailureRecord {
  /** 0: nothing failed yet; a stage change recorded as still to make with its post (recordPosted). */
  attempts: number;
  lastError: string;
  failingSince: number;
  uncertainSince?: number;
  /** The result is posted and recorded; the rule's stage change is what failed, and is what is tried again. */
  stagePending?: boolean;
  /** Until when (ms) the Retry-After that answered the last attempt asked to wait: the listing says so, on every instance. */
  rateLimitedUntil?: number;
}

/**
 * Whether an entry of `failures` is of a write-back that has failed: not a stage change recorded
 * as still to make with its post, and not failed yet (under way, or cut short by a stop or a crash).
 */
export function hasFailed(failureJson: string): boolean {
  return (JSON.parse(failureJson) as FailureRecord).attempts > 0;
}

/**
 * Text as escaped HTML paragraphs: HTML collapses a raw line break into a space, and the guest
 * reply's lines and paragraphs ran together in the chatter. A blank line (or one of only spaces)
 * starts a paragraph, a single line break is a `<br>`; '' when there is no text.
 */
export function textAsHtml(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .split(/\n[^\S\n]*\n\s*/)
    .map((paragraph) => paragraph.replace(/^\n+|\s+$/g, ''))
    .filter((paragraph) => paragraph.trim() !== '')
    .map((paragraph) => `<p>${paragraph.split('\n').map(escapeHtml).join('<br>')}</p>`)
    .join('');
}

/** What the chatter shows: a line naming the mission (and the marker that finds the post again), the result's summary, the output. */
export function chatterBody(mission: Mission): string {
  const output = mission.result?.output ?? {};
  const summary = typeof output.summary === 'string' ? output.summary : typeof output.reply === 'string' ? output.reply : '';
  return [
    `<p><b>BRAIN: mission succeeded</b> — ${escapeHtml(mission.title)} <small>(brain-mission:${mission.id})</small></p>`,
    textAsHtml(summary),
    `<pre>${escapeHtml(JSON.stringify(output, null, 2))}</pre>`,
    mission.evaluation ? `<p>Score ${mission.evaluation.score.toFixed(2)} (${escapeHtml(mission.evaluation.judge)})</p>` : '',
  ].join('');
}

/**
 * Out, second half: makes the queued write-backs. For each, it looks in the record's chatter for a
 * post of this mission first (a crash after posting and before recording must not post twice),
 * posts the result with `message_post` (an internal note by default), records the post as an
 * OdooResultPosted event, then moves the stage when the rule says so (a failure of that is retried
 * for the stage alone). A post with no answer is not made again until a search long enough after
 * it finds nothing (postToChatterOnce). A failure is retried with backoff until it succeeds, and
 * listed meanwhile; except when the record itself no longer exists (MissingError, and no record of
 * its id: deleted or merged by its users), which no retry can change: the write-back is given up,
 * recorded as an OdooWriteBackAbandoned event and listed as abandoned.
 */
export class OdooWriteBack {
  private loop: Promise<void> | undefined;
  private stopping = false;
  private pause = new AbortController();
  private readonly clock: () => number;

  constructor(
    private readonly odoo: OdooClient,
    private readonly store: MissionStore,
    private readonly redis: RedisConnection,
    private readonly keys: ConnectorKeys,
    private readonly mapping: OdooMapping,
    private readonly personal: MissionPersonalData,
    private readonly options: WriteBackOptions,
  ) {
    this.clock = options.clock ?? Date.now;
  }

  start(): void {
    if (this.loop) return;
    this.stopping = false;
    this.pause = new AbortController();
    this.loop = this.follow();
  }

  /**
   * Ends the loop after the write-back in progress (OdooClient.abortCalls ends its call to Odoo),
   * unless Redis is lost (at once or meanwhile): that one then waits out its commands' retries. One
   * cut short is made again once its claim runs out (a post it made is found in the chatter first).
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.pause.abort();
    if (this.loop) await settlesWhileReachable(this.redis, this.loop);
    this.loop = undefined;
  }

  /** Makes the write-backs due now (up to RUN_LIMIT, each claimed as it is made); resolves with how many were posted. */
  async runOnce(): Promise<number> {
    let posted = 0;
    // Not one more once stopping: each could wait out ODOO_TIMEOUT_MS per call on a hanging Odoo.
    // Nor while Odoo's Retry-After asks to wait (OdooClient fails each call before it): each claimed
    // would fail, be logged and back off, with no call made.
    for (let made = 0; made < RUN_LIMIT && !this.stopping && this.odoo.rateLimitedForMs === 0; made++) {
      const now = this.clock();
      // At least a post's settle time: an instance killed while its post was sent leaves no
      // uncertainSince, and one taking the write-back up sooner searched while Odoo could still
      // commit that post (up to limit_time_real), and posted a second.
      const claimedUntil = now + Math.max((WRITE_BACK_CALLS + 1) * this.options.timeoutMs, uncertainPostSettleMs(this.options.timeoutMs));
      const [missionId] = (await claimScript.run(this.redis, [this.keys.due], [now, claimedUntil, 1])) as string[];
      if (missionId === undefined) break;
      if (await this.writeBack(missionId, claimedUntil)) posted++;
    }
    return posted;
  }

  async abandoned(): Promise<AbandonedWriteBack[]> {
    const entries = Object.entries(await this.redis.hgetall(this.keys.abandoned));
    return entries.map(([missionId, json]) => ({ missionId, ...(JSON.parse(json) as Omit<AbandonedWriteBack, 'missionId'>) }));
  }

  /**
   * The write-backs that failed, and those due that Odoo's rate limit holds. A write-back is
   * `rate-limited` while it waits for a Retry-After: the one that answered its last attempt (kept
   * with its failure), or this instance's own, which holds every write-back due before it ends,
   * unclaimed (runOnce), tried before or not. Those went unlisted, or were listed as any failure,
   * with nothing to say that they waited for Odoo, nor until when.
   */
  async delayed(): Promise<DelayedWriteBack[]> {
    const now = this.clock();
    // This instance's wait, by its clock; another instance keeps its own, and claims what is due.
    const waitEnds = now + this.odoo.rateLimitedForMs;
    const [failures, dueNow] = await Promise.all([
      this.redis.hgetall(this.keys.failures),
      waitEnds > now ? this.redis.zrangebyscore(this.keys.due, '-inf', now) : [],
    ]);
    const failed = new Map(
      Object.entries(failures)
        .filter(([, json]) => hasFailed(json))
        .map(([missionId, json]) => [missionId, JSON.parse(json) as FailureRecord]),
    );
    const listed = [...failed.keys(), ...dueNow.filter((missionId) => !failed.has(missionId))];
    const entries = await Promise.all(
      listed.map(async (missionId): Promise<DelayedWriteBack | null> => {
        const failure = failed.get(missionId);
        const [source, due] = await Promise.all([this.redis.hget(this.keys.sources, missionId), this.redis.zscore(this.keys.due, missionId)]);
        // Never failed, and no longer waiting unclaimed: another instance claimed or posted it since
        // the due set was read. It is neither held by this wait nor failing.
        if (!failure && (due === null || Number(due) > now)) return null;
        const [model, recordId] = (source ?? '|0').split('|');
        const waitsUntil = Math.max(failure?.rateLimitedUntil ?? 0, waitEnds);
        const rateLimited = due !== null && waitsUntil > now && Number(due) <= waitsUntil;
        return {
          missionId,
          model,
          recordId: Number(recordId),
          status: rateLimited ? 'rate-limited' : 'failing',
          attempts: failure?.attempts ?? 0,
          lastError: failure?.lastError ?? null,
          failingSince: failure ? new Date(failure.failingSince).toISOString() : null,
          nextAttemptAt: rateLimited ? new Date(waitsUntil).toISOString() : due ? new Date(Number(due)).toISOString() : null,
        };
      }),
    );
    return entries.filter((entry): entry is DelayedWriteBack => entry !== null);
  }

  private async follow(): Promise<void> {
    // Once per outage, as the services' loops log theirs: a line a second while Redis is away drowns the rest.
    const reads = new FailureStreak({
      failing: (error) =>
        logger.warn(`reading the write-backs due failed, trying again every second: ${error instanceof Error ? error.message : String(error)}`),
      recovered: (failures, forMs) => logger.log(`reading the write-backs due works again, after ${failures} failures in ${forMs} ms`),
    });
    while (!this.stopping) {
      try {
        const posted = await this.runOnce();
        reads.succeeded();
        if (posted === 0) await sleep(this.options.pollMs ?? 500, undefined, { signal: this.pause.signal }).catch(() => undefined);
      } catch (error) {
        this.options.onFailure?.('', error);
        reads.failed(error);
        await sleep(1_000, undefined, { signal: this.pause.signal }).catch(() => undefined);
      }
    }
  }

  /**
   * One write-back, traced: a span continuing the trace its mission keeps (the traceparent of its
   * last traced append), so the mission's one trace reaches Odoo's chatter; `brain.odoo.outcome`
   * says what it came to.
   */
  private async writeBack(missionId: string, claimedUntil: number): Promise<boolean> {
    const tracing = this.options.tracing;
    if (!tracing?.tracer.enabled) return this.writeBackOnce(missionId, claimedUntil);
    const [traceparent] = await tracing.traceParents([missionId]).catch(() => [null]);
    return tracing.tracer.inSpan('post odoo result', { traceparent: traceparent ?? undefined }, SpanKind.INTERNAL, { 'brain.mission.id': missionId }, () =>
      this.writeBackOnce(missionId, claimedUntil),
    );
  }

  /** `claimedUntil` (ms): when the claim on it lapses, and another instance may take it up. */
  private async writeBackOnce(missionId: string, claimedUntil: number): Promise<boolean> {
    let target: { model: string; recordId: number } | undefined;
    /** Set once the result is posted and recorded: what fails after is the stage change alone. */
    let stage: { field: string; value: number | string } | undefined;
    /** Whether this call recorded the post: it counts as posted whatever the stage change comes to. */
    let recorded = false;
    try {
      const [postedId, failure] = await Promise.all([this.redis.hget(this.keys.posted, missionId), this.redis.hget(this.keys.failures, missionId)]);
      const before = JSON.parse(failure ?? 'null') as FailureRecord | null;
      if (postedId !== null && !before?.stagePending) {
        annotateSpan('brain.odoo.outcome', 'posted before');
        await this.redis.zrem(this.keys.due, missionId);
        return false;
      }
      const [source, mission] = await Promise.all([this.redis.hget(this.keys.sources, missionId), this.store.load(missionId)]);
      if (!source || !mission) throw new Error(`mission ${missionId} or its Odoo source is unknown`);
      const model = source.slice(0, source.lastIndexOf('|'));
      const recordId = Number(source.slice(source.lastIndexOf('|') + 1));
      target = { model, recordId };
      annotateSpan('brain.odoo.model', model);
      annotateSpan('brain.odoo.record.id', recordId);
      const rule = this.mapping.rules.find((candidate) => candidate.name === (mission.payload.odoo as { rule?: string } | undefined)?.rule);
      if (postedId === null) {
        // Opened only for the post: Odoo is where the guest's reply goes.
        const { messageId, posted } = await postToChatterOnce(
          this.odoo,
          target,
          `brain-mission:${missionId}`,
          async () => chatterBody(await this.personal.openMission(mission)),
          this.options.postAs,
          { uncertainSince: before?.uncertainSince, now: this.clock() },
        );
        // Recorded before the stage moves: a stage change that fails (a stage since deleted) left a
        // result that is in the chatter unrecorded, or given up as if its record were gone. With the
        // stage change still to make, in the same step: made again once the claim lapses, if cut short.
        const stageToMove = rule?.stageOnSuccess ? { stage: rule.stageOnSuccess, until: claimedUntil } : undefined;
        recorded = (await this.recordPosted(missionId, target, messageId, stageToMove)) === RecordCode.Recorded;
        if (recorded) this.options.onPosted?.();
        annotateSpan('brain.odoo.message.id', messageId);
        annotateSpan('brain.odoo.outcome', !posted ? 'found in chatter' : recorded ? 'posted' : 'posted before');
      }
      if (rule?.stageOnSuccess) {
        stage = rule.stageOnSuccess;
        await this.odoo.executeKw<boolean>(model, 'write', [[recordId], { [stage.field]: stage.value }]);
      }
      // The stage moved (or the rule moves none any more): nothing is left to do.
      if (stage || before?.stagePending) {
        // A post just made keeps its outcome ('posted'); a retry of the stage alone says it moved.
        if (before?.stagePending) annotateSpan('brain.odoo.outcome', 'stage moved');
        await this.redis.multi().zrem(this.keys.due, missionId).hdel(this.keys.failures, missionId).exec();
      }
      return recorded;
    } catch (error) {
      if (target && (await isRecordGone(this.odoo, target, error))) {
        const reason = error instanceof Error ? error.message : String(error);
        // The result is recorded (posted): only the stage change is dropped, as no retry can make it.
        if (stage) {
          annotateSpan('brain.odoo.outcome', 'stage dropped');
          logger.warn(
            `the stage change of mission ${missionId} (${stage.field} to ${String(stage.value)}) is dropped: ${target.model} ${target.recordId} is gone from Odoo (${reason}); its result was posted`,
          );
          await this.redis.multi().zrem(this.keys.due, missionId).hdel(this.keys.failures, missionId).exec();
          return recorded;
        }
        annotateSpan('brain.odoo.outcome', 'abandoned');
        await this.abandon(missionId, target, reason);
        return false;
      }
      // Cut short by the stop: no failure of Odoo's, made again once its claim runs out. A post that
      // was sent is recorded all the same: its outcome is unknown, and it must not be posted again soon.
      if (this.stopping && !(error instanceof UncertainChatterPostError && error.sent)) {
        annotateSpan('brain.odoo.outcome', 'stopped');
        return recorded;
      }
      annotateSpan('brain.odoo.outcome', stage ? 'stage failed' : 'failed');
      markSpanFailed(error);
      await this.recordFailure(missionId, error, target, stage);
      return recorded;
    }
  }

  /**
   * Records the post as an OdooResultPosted event (once per mission), and the write-back off the
   * queue and the failures; or, with a stage change to make after it (`stageToMove`), that stage
   * change as still to make, queued for when the claim lapses (`until`), until it is made.
   */
  private async recordPosted(
    missionId: string,
    target: { model: string; recordId: number },
    messageId: number,
    stageToMove?: { stage: { field: string; value: number | string }; until: number },
  ): Promise<RecordCode> {
    const now = this.clock();
    const event = { type: 'OdooResultPosted', missionId, ...target, messageId, at: new Date(now).toISOString(), actor: SERVICE_ACTORS.connectorOdoo };
    const pending: FailureRecord | undefined = stageToMove && {
      attempts: 0,
      lastError: `the result is posted; moving ${stageToMove.stage.field} to ${String(stageToMove.stage.value)} is under way, or was cut short`,
      failingSince: now,
      stagePending: true,
    };
    const [code] = (await recordScript.run(
      this.redis,
      [this.keys.posted, this.keys.due, this.keys.events, this.keys.failures],
      [missionId, messageId, JSON.stringify(event), pending ? JSON.stringify(pending) : '', stageToMove?.until ?? 0],
    )) as [RecordCode];
    return code;
  }

  /** Gives the write-back up for good: off the queue and the failures, kept as abandoned, with its event; once per mission. */
  private async abandon(missionId: string, target: { model: string; recordId: number }, reason: string): Promise<void> {
    const abandonedAt = new Date(this.clock()).toISOString();
    const record = { ...target, reason, abandonedAt };
    const event = { type: 'OdooWriteBackAbandoned', missionId, ...target, reason, at: abandonedAt, actor: SERVICE_ACTORS.connectorOdoo };
    await recordScript.run(
      this.redis,
      [this.keys.abandoned, this.keys.due, this.keys.events, this.keys.failures],
      [missionId, JSON.stringify(record), JSON.stringify(event)],
    );
  }

  /** `stage`: the stage change failed, after the result was posted and recorded (so off the queue): it is queued again for it alone. */
  private async recordFailure(
    missionId: string,
    error: unknown,
    target: { model: string; recordId: number } | undefined,
    stage?: { field: string; value: number | string },
  ): Promise<void> {
    this.options.onFailure?.(missionId, error);
    const now = this.clock();
    const before = JSON.parse((await this.redis.hget(this.keys.failures, missionId)) ?? 'null') as FailureRecord | null;
    const attempts = (before?.attempts ?? 0) + 1;
    const policy: RetryPolicy = { backoffMs: this.options.backoffMs, backoffMaxMs: MAX_BACKOFF_MS, retryPeriodMs: Number.MAX_SAFE_INTEGER };
    const step = nextStep({ error: String(error), retryable: true }, attempts, now, now, policy, missionId);
    // Not before a rate-limited Odoo's Retry-After.
    const retryAfterMs = retryAfterOf(error);
    const at = Math.max(step.kind === 'retry' ? step.at : now + MAX_BACKOFF_MS, now + retryAfterMs);
    // Kept until the write-back is recorded: each retry searches the chatter, and posts only once it may.
    const uncertainSince = error instanceof UncertainChatterPostError && error.sent ? now : before?.uncertainSince;
    const reason = error instanceof Error ? error.message : String(error);
    const lastError = stage ? `the result is posted; moving ${stage.field} to ${String(stage.value)} failed: ${reason}` : reason;
    // Only ever counted before, so an operator saw the failures grow with nothing in the log to say
    // why. Odoo's error, as listed at /connector/write-backs: never the body, which holds guest data.
    logger.warn(
      `write-back of mission ${missionId} to ${target ? `${target.model} ${target.recordId}` : 'its Odoo record'} failed (attempt ${attempts}), tried again at ${new Date(at).toISOString()}: ${lastError}`,
    );
    await this.redis
      .multi()
      .hset(
        this.keys.failures,
        missionId,
        JSON.stringify({
          attempts,
          lastError,
          failingSince: before?.failingSince ?? now,
          ...(uncertainSince === undefined ? {} : { uncertainSince }),
          ...(stage ? { stagePending: true } : {}),
          ...(retryAfterMs > 0 ? { rateLimitedUntil: now + retryAfterMs } : {}),
        } satisfies FailureRecord),
      )
      // Only while queued, unless for the stage: recording the post took it off.
      .zadd(this.keys.due, ...(stage ? [] : ['XX' as const]), at, missionId)
      .exec();
  }
}
