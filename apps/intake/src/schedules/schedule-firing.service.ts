import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { Environment } from '@app/config';
import { MissionStore, WithdrawCode } from '@app/event-store';
import { idempotencyDeduplicationKey, missionIdFor, missionIdForKey, SubmitterScope } from '@app/mission';
import { ENVIRONMENT, PeriodicTask } from '@app/runtime';
import { MissionCreateRefusedError } from '../missions/mission-create-refused.error';
import { MissionIntakeService } from '../missions/mission-intake.service';
import { FiredMission, ScheduleRecord } from './schedule-events';
import { ScheduleMetrics } from './schedule-metrics';
import { ScheduleRegistry, ScheduleVersionConflictError } from './schedule-registry';
import { nextDueOf, nextFiringStep } from './schedule-timing';

/** Schedules looked at per sweep, and steps (a firing or a skip) per schedule; the rest wait for the next sweep. */
const SWEEP_BATCH = 100;
const STEPS_PER_SCHEDULE = 100;
const ACTOR = 'intake:schedule';

/** Whose idempotency keys a schedule's missions use: the due time names the mission within it. */
export function scheduleScope(scheduleId: string): SubmitterScope {
  return `schedule:${scheduleId}`;
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
 * name one mission; the version check then lets one ScheduleFired land. A delete withdraws the
 * mission a firing may still create first (withdrawNextFiring).
 */
@Injectable()
export class ScheduleFiringService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly task = new PeriodicTask(
    () => this.sweep(),
    (error) => this.logger.error({ err: error }, 'schedule sweep failed'),
  );

  constructor(
    private readonly schedules: ScheduleRegistry,
    private readonly intake: MissionIntakeService,
    private readonly store: MissionStore,
    private readonly metrics: ScheduleMetrics,
    @Inject(ENVIRONMENT) private readonly env: Environment,
    @InjectPinoLogger(ScheduleFiringService.name) private readonly logger: PinoLogger,
  ) {}

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
        if (await this.step(record, now, counts)) continue;
        // Listed as due with nothing due: its score is off (drawn before H fields were seeded); else
        // it would be read at every sweep until its real due time.
        if (step === 0) await this.schedules.rescore(record);
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
   * Makes sure no firing that read `record` creates a mission any more, for a delete at its version.
   * Such a firing creates at most the mission of the schedule's next due time (a firing step fires
   * the first due time after the last one dealt with, and each step reads the schedule anew), so
   * that due time's idempotency key is withdrawn; a create with it is then refused. A firing that
   * created the mission first but had not recorded it (it would be refused at the deleted
   * version, or it crashed) gets it back, to be recorded with the delete; null otherwise.
   */
  async withdrawNextFiring(record: ScheduleRecord): Promise<FiredMission | null> {
    const next = nextDueOf(record);
    if (!next) return null;
    const dueAt = next.toISOString();
    const key = idempotencyDeduplicationKey(scheduleScope(record.id), dueAt);
    const missionId = missionIdForKey(key);
    return (await this.store.withdrawIdempotencyKey(missionId, key)) === WithdrawCode.Created ? { dueAt, missionId } : null;
  }

  /** One firing or skip of the schedule; false when nothing is due. */
  private async step(record: ScheduleRecord, now: Date, counts: SweepCounts): Promise<boolean> {
    const catchUpMs = record.catchUpMs ?? this.env.SCHEDULE_CATCH_UP_MS;
    // Counted from the sweep that could first fire the due time, up to SCHEDULE_CHECK_MS after it:
    // with a window shorter than that (0: never catch up), every due time used to be skipped.
    const lateness = catchUpMs + this.env.SCHEDULE_CHECK_MS;
    const next = nextFiringStep(record.cron, record.timeZone, new Date(record.lastDueAt ?? record.createdAt), now, lateness, record.id);
    if (next.kind === 'wait') return false;
    if (next.kind === 'skip') {
      // The oldest of them may have its mission: an intake created it and crashed before its
      // ScheduleFired, and no intake swept again within the window. It was recorded as skipped.
      const made = await this.existingMission(record, next.from.toISOString());
      if (made) {
        if (await this.settled(() => this.schedules.fired(record, { dueAt: made.dueAt, missionId: made.missionId }, ACTOR, now))) counts.fired += 1;
        return true;
      }
      const skip = {
        count: next.count,
        from: next.from.toISOString(),
        to: next.to.toISOString(),
        reason: `missed by more than the catch-up window of ${catchUpMs} ms`,
      };
      if (await this.settled(() => this.schedules.skipped(record, skip, ACTOR, now))) counts.skipped += next.count;
      return true;
    }
    const dueAt = next.dueAt.toISOString();
    const created = await this.createMission(record, dueAt);
    if ('refused' in created) {
      const skip = { count: 1, from: dueAt, to: dueAt, reason: `mission refused: ${created.refused}` };
      if (await this.settled(() => this.schedules.skipped(record, skip, ACTOR, now))) counts.skipped += 1;
      return true;
    }
    if (await this.settled(() => this.schedules.fired(record, { dueAt, missionId: created.missionId }, ACTOR, now))) counts.fired += 1;
    return true;
  }

  /** The mission of this due time: created now, or found created by an earlier firing of it. */
  private async createMission(record: ScheduleRecord, dueAt: string): Promise<{ missionId: string } | { refused: string }> {
    const scope = scheduleScope(record.id);
    try {
      const { mission } = await this.intake.create(record.template, { actor: record.createdBy, scope, idempotencyKey: dueAt });
      return { missionId: mission.id };
    } catch (error) {
      if (!(error instanceof MissionCreateRefusedError)) throw error;
      // A key whose idempotency record expired still names the mission it created.
      return (await this.existingMission(record, dueAt)) ?? { refused: error.message };
    }
  }

  /** The mission a firing of `dueAt` created, if there is one (its id follows from the schedule, the template and the due time). */
  private async existingMission(record: ScheduleRecord, dueAt: string): Promise<FiredMission | null> {
    const missionId = missionIdFor(scheduleScope(record.id), record.template, dueAt);
    return (await this.store.load(missionId)) ? { dueAt, missionId } : null;
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
