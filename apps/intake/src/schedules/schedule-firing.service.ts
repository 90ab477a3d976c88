import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { Environment } from '@app/config';
import { MissionStore, WithdrawalReleaseCode, WithdrawCode } from '@app/event-store';
import { idempotencyDeduplicationKey, missionIdForKey, SERVICE_ACTORS, SubmitterScope } from '@app/mission';
import { RedisConnection } from '@app/redis';
import { ENVIRONMENT, PeriodicTask, REDIS } from '@app/runtime';
import { MissionCreateRefusedError } from '../missions/mission-create-refused.error';
import { MissionIntakeService } from '../missions/mission-intake.service';
import { FiredMission, ScheduleRecord, SkippedDueTimes } from './schedule-events';
import { ScheduleMetrics } from './schedule-metrics';
import { ScheduleRegistry, ScheduleVersionConflictError } from './schedule-registry';
import { nextDueOf, nextFiringStep } from './schedule-timing';

/** Schedules looked at per sweep, and steps (a firing or a skip) per schedule; the rest wait for the next sweep. */
const SWEEP_BATCH = 100;
const STEPS_PER_SCHEDULE = 100;
const ACTOR = SERVICE_ACTORS.schedule;
/**
 * A withdrawal of a due time this old with the schedule still live was left by an intake that died
 * before the append it was made for: those two steps take milliseconds.
 */
const LEFT_OVER_WITHDRAWAL_MS = 60_000;

/** What one step of a due schedule came to. */
enum Step {
  /** A due time fired or skipped (or found dealt with by another intake): the next may be due. */
  Taken,
  /** Nothing due yet. */
  NothingDue,
  /** The due time is withdrawn by a DELETE or a skip under way, whose append deals with it: left to it. */
  Held,
}

/** The state of a due time's withdrawn key, as its refused create finds it (withdrawalOf). */
enum Withdrawal {
  None,
  UnderWay,
  Released,
}

/** Whose idempotency keys a schedule's missions use: the due time names the mission within it. */
export function scheduleScope(scheduleId: string): SubmitterScope {
  return `schedule:${scheduleId}`;
}

/** The idempotency key of a schedule's due time, and the id of the mission it names. */
function firingKey(record: ScheduleRecord, dueAt: string): { key: string; missionId: string } {
  const key = idempotencyDeduplicationKey(scheduleScope(record.id), dueAt);
  return { key, missionId: missionIdForKey(key) };
}

export interface SweepCounts {
  fired: number;
  skipped: number;
}

/**
 * Fires recurring schedules: every SCHEDULE_CHECK_MS each intake reads the schedules whose next
 * due time came (a sorted set by time) and, one due time at a time, oldest first, creates its
 * mission and appends ScheduleFired at the version it read; due times older than the catch-up
 * window are appended as ScheduleSkipped instead. The mission is created through the idempotency
 * mechanism of POST /api/missions, keyed by schedule and due time, so two intakes firing the same
 * due time, or an intake that crashed between the create and ScheduleFired and fires it again,
 * name one mission; the version check then lets one ScheduleFired land. A skip, and a delete,
 * first withdraw the mission that a firing may still create (withFiringWithdrawn), so every
 * mission a schedule creates is named by one of its ScheduleFired events.
 */
@Injectable()
export class ScheduleFiringService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly task: PeriodicTask;

  constructor(
    private readonly schedules: ScheduleRegistry,
    private readonly intake: MissionIntakeService,
    private readonly store: MissionStore,
    private readonly metrics: ScheduleMetrics,
    @Inject(ENVIRONMENT) private readonly env: Environment,
    /** The connection the registry and the store wait on: the sweep's task is given it for its stop. */
    @Inject(REDIS) redis: RedisConnection,
    @InjectPinoLogger(ScheduleFiringService.name) private readonly logger: PinoLogger,
  ) {
    this.task = new PeriodicTask(
      () => this.sweep(),
      (error) => this.logger.error({ err: error }, 'schedule sweep failed'),
      redis,
    );
  }

  onApplicationBootstrap(): void {
    this.task.start(this.env.SCHEDULE_CHECK_MS);
  }

  async onModuleDestroy(): Promise<void> {
    await this.task.stop();
  }

  /** Fires and skips every due time that came by `now`; returns what this call recorded. */
  async sweep(now = new Date()): Promise<SweepCounts> {
    const counts: SweepCounts = { fired: 0, skipped: 0 };
    for (const scheduleId of await this.schedules.due(now, SWEEP_BATCH)) {
      for (let step = 0; step < STEPS_PER_SCHEDULE; step += 1) {
        // Deleted (it left the due set with its last append): nothing more to fire.
        const record = await this.schedules.record(scheduleId);
        if (!record) break;
        const stepped = await this.step(record, now, counts);
        if (stepped === Step.Taken) continue;
        // Listed as due with nothing due: its score is off (drawn before H fields were seeded); else
        // it would be read at every sweep until its real due time.
        if (stepped === Step.NothingDue && step === 0) await this.schedules.rescore(record);
        break;
      }
    }
    if (counts.fired + counts.skipped > 0) {
      this.metrics.dueTimes.inc({ outcome: 'fired' }, counts.fired);
      this.metrics.dueTimes.inc({ outcome: 'skipped' }, counts.skipped);
      this.logger.info(counts, 'schedules fired');
    }
    return counts;
  }

  /**
   * Runs `append`, a delete at the version of `record`, once no firing that read `record` creates
   * a mission any more. Such a firing creates at most the mission of the schedule's next due time
   * (a firing step fires the first due time after the last one dealt with, and each step reads the
   * schedule anew), so that due time's key is withdrawn first (withFiringWithdrawn); `append` gets
   * null, or the mission a create made first, to be recorded with the delete.
   */
  withNextFiringWithdrawn<T>(record: ScheduleRecord, append: (createdFirst: FiredMission | null) => Promise<T>): Promise<T> {
    const next = nextDueOf(record);
    return next ? this.withFiringWithdrawn(record, next.toISOString(), append) : append(null);
  }

  /** One firing or skip of the schedule (Taken), or why none was taken. */
  private async step(record: ScheduleRecord, now: Date, counts: SweepCounts): Promise<Step> {
    const catchUpMs = record.catchUpMs ?? this.env.SCHEDULE_CATCH_UP_MS;
    // Counted from the sweep that could first fire the due time, up to SCHEDULE_CHECK_MS after it:
    // with a window shorter than that (0: never catch up), every due time used to be skipped.
    const lateness = catchUpMs + this.env.SCHEDULE_CHECK_MS;
    const next = nextFiringStep(record.cron, record.timeZone, new Date(record.lastDueAt ?? record.createdAt), now, lateness, record.id);
    if (next.kind === 'wait') return Step.NothingDue;
    if (next.kind === 'skip') {
      const reason = `missed by more than the catch-up window of ${catchUpMs} ms`;
      await this.skip(record, { count: next.count, from: next.from.toISOString(), to: next.to.toISOString(), reason }, now, counts);
      return Step.Taken;
    }
    const dueAt = next.dueAt.toISOString();
    let created = await this.createMission(record, dueAt);
    if ('refused' in created) {
      const withdrawal = await this.withdrawalOf(record, dueAt);
      // A DELETE (or another intake's skip) withdrew the due time and is about to record it: a skip
      // here moved the schedule's version under that append (the DELETE's 409, the schedule left
      // live) and recorded the due time as "refused … with another body", a mission that never was.
      if (withdrawal === Withdrawal.UnderWay) return Step.Held;
      if (withdrawal === Withdrawal.Released) created = await this.createMission(record, dueAt);
    }
    if ('refused' in created) {
      await this.skip(record, { count: 1, from: dueAt, to: dueAt, reason: `mission refused: ${created.refused}` }, now, counts);
      return Step.Taken;
    }
    if (await this.settled(() => this.schedules.fired(record, { dueAt, missionId: created.missionId }, ACTOR, recordedAt(now)))) counts.fired += 1;
    return Step.Taken;
  }

  /**
   * Appends ScheduleSkipped at the version of `record`, or ScheduleFired instead when the mission
   * of `skip.from` exists. `skip.from` is the first due time after the last one dealt with, the
   * only one whose mission a firing decided on this version can still be creating (in another
   * intake, or held up in this one): without its withdrawal such a create landed after the skip,
   * and its ScheduleFired was refused, so no schedule event named the mission. A mission created
   * first (by such a firing, or by one that crashed before its ScheduleFired, or whose create was
   * refused as its idempotency record had expired) is recorded as fired; the rest of the due times
   * are skipped by the next step.
   */
  private async skip(record: ScheduleRecord, skip: SkippedDueTimes, now: Date, counts: SweepCounts): Promise<void> {
    await this.withFiringWithdrawn(record, skip.from, async (createdFirst) => {
      if (createdFirst) {
        if (await this.settled(() => this.schedules.fired(record, createdFirst, ACTOR, recordedAt(now)))) counts.fired += 1;
      } else if (await this.settled(() => this.schedules.skipped(record, skip, ACTOR, recordedAt(now)))) {
        counts.skipped += skip.count;
      }
    });
  }

  /**
   * Withdraws the idempotency key of the schedule's due time `dueAt`: a create with it is refused
   * from now on, however late it comes within IDEMPOTENCY_TTL_SECONDS (as long as any idempotency
   * holds). Then runs `append`, decided on `record`, with null, or with the mission a create made
   * with the key first (its firing may not have recorded it: refused at a moved version, or
   * crashed). When `append` fails, the withdrawal is taken back if nothing relies on it: this call
   * made it, no other withdrawal met it (releaseWithdrawnIdempotencyKey), and the schedule is still
   * live at the version of `record`, so no append dealt with the due time, not even this one (an
   * error can come after the append landed). Left withdrawn, a due time still to fire could never
   * fire: its create refused as one "with another body", and the due time skipped.
   */
  private async withFiringWithdrawn<T>(record: ScheduleRecord, dueAt: string, append: (createdFirst: FiredMission | null) => Promise<T>): Promise<T> {
    const { key, missionId } = firingKey(record, dueAt);
    const withdrawn = await this.store.withdrawIdempotencyKey(missionId, key, this.env.IDEMPOTENCY_TTL_SECONDS * 1000);
    try {
      return await append(withdrawn === WithdrawCode.Created ? { dueAt, missionId } : null);
    } catch (error) {
      if (withdrawn === WithdrawCode.Withdrawn) await this.releaseWithdrawal(record, missionId, key);
      throw error;
    }
  }

  /**
   * The withdrawal of the due time's key that refused its create: one younger than
   * LEFT_OVER_WITHDRAWAL_MS belongs to a DELETE or a skip under way, or two that met (UnderWay); an
   * older one, which no append has followed, was left by an intake that died between the two steps
   * of withFiringWithdrawn, and is taken back (Released) unless another withdrawal met it (a second
   * one may have an append relying on it); None when the key is not withdrawn, or stays so. One of
   * unknown age (made under a longer IDEMPOTENCY_TTL_SECONDS) counts as old: held, it would hold
   * the schedule's every later due time until it left the catch-up window.
   */
  private async withdrawalOf(record: ScheduleRecord, dueAt: string): Promise<Withdrawal> {
    const { key, missionId } = firingKey(record, dueAt);
    const withdrawal = await this.store.withdrawalOf(missionId, key, this.env.IDEMPOTENCY_TTL_SECONDS * 1000);
    if (!withdrawal) return Withdrawal.None;
    if (withdrawal.ageMs >= 0 && withdrawal.ageMs < LEFT_OVER_WITHDRAWAL_MS) return Withdrawal.UnderWay;
    if (withdrawal.met) return Withdrawal.None;
    return (await this.store.releaseWithdrawnIdempotencyKey(missionId, key)) === WithdrawalReleaseCode.Released ? Withdrawal.Released : Withdrawal.None;
  }

  /** Takes back this call's withdrawal of `key` if the schedule is still live at the version of `record` (withFiringWithdrawn). */
  private async releaseWithdrawal(record: ScheduleRecord, missionId: string, key: string): Promise<void> {
    try {
      if ((await this.schedules.record(record.id))?.version !== record.version) return;
      await this.store.releaseWithdrawnIdempotencyKey(missionId, key);
    } catch (error) {
      // The append's own error is the one to report; the withdrawal stays, as it did before.
      this.logger.warn({ err: error, scheduleId: record.id }, 'could not take back the withdrawal of a due time whose append failed');
    }
  }

  /** The mission of this due time: created now, or found created by an earlier firing of it; else why it was refused. */
  private async createMission(record: ScheduleRecord, dueAt: string): Promise<{ missionId: string } | { refused: string }> {
    const scope = scheduleScope(record.id);
    try {
      const { mission } = await this.intake.create(record.template, { actor: record.createdBy, scope, idempotencyKey: dueAt });
      return { missionId: mission.id };
    } catch (error) {
      if (!(error instanceof MissionCreateRefusedError)) throw error;
      // Refused too when the key's record expired though its mission exists: skip() finds that mission.
      return { refused: error.message };
    }
  }

  /** Runs an append decided on a version; false when another intake (or a delete) changed the schedule first. */
  private async settled(append: () => Promise<ScheduleRecord>): Promise<boolean> {
    try {
      await append();
      return true;
    } catch (error) {
      if (error instanceof ScheduleVersionConflictError) return false;
      throw error;
    }
  }
}

/**
 * The time a firing's or skip's event carries: the sweep's instant `now`, which decides what is due,
 * or the clock when it has moved on since. The sweep's instant is taken before its batch, so a
 * ScheduleFired dated with it could come before the mission it names was created.
 */
function recordedAt(now: Date): Date {
  const clock = Date.now();
  return clock > now.getTime() ? new Date(clock) : now;
}
