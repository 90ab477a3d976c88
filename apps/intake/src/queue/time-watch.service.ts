import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { Environment } from '@app/config';
import { KeyLayout, PartitionKeys, PassedOverMissions } from '@app/event-store';
import { decideDue, decideOverdue, Decision, Mission, SERVICE_ACTORS } from '@app/mission';
import { MissionPipeline } from '@app/pipeline';
import { RedisConnection } from '@app/redis';
import { ENVIRONMENT, PeriodicTask, REDIS } from '@app/runtime';
import { DueEntry, DueMissionsWalk, withoutLease } from './due-missions-walk';

/** A sorted set of missions by the time something is due for them, and what is then decided. */
interface TimedSet {
  keyOf(partition: PartitionKeys): string;
  decide(mission: Mission, now: Date): Decision;
}

/** Scheduled missions (a later start, a retry's backoff) whose time came go into the ready queue. */
const DUE: readonly TimedSet[] = [
  { keyOf: (partition) => partition.scheduled('delayed'), decide: decideDue },
  { keyOf: (partition) => partition.scheduled('retry'), decide: decideDue },
];
/** Unfinished missions whose deadline passed get MissionOverdue. */
const OVERDUE: readonly TimedSet[] = [{ keyOf: (partition) => partition.deadlines, decide: decideOverdue }];

/**
 * What happens when a time comes, for missions waiting in sorted sets by that time (written and
 * left by the effects of their events, libs/pipeline): every SCHEDULE_CHECK_MS scheduled missions
 * that are due are queued (MissionQueued, reason due), and every DEADLINE_CHECK_MS unfinished
 * missions past their deadline get MissionOverdue. A sweep reads only what is due, and pages past
 * the missions whose stored data cannot be read (DueMissionsWalk, which bounds a run). Every intake
 * instance sweeps; the append at the mission's version lets exactly one of them act.
 */
@Injectable()
export class TimeWatchService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly due: PeriodicTask;
  private readonly overdue: PeriodicTask;
  /** The walk over the sets; a mission whose stored data cannot be read is passed over, named once, and left in its set. */
  private readonly walk: DueMissionsWalk;

  constructor(
    private readonly pipeline: MissionPipeline,
    private readonly keys: KeyLayout,
    @Inject(REDIS) private readonly redis: RedisConnection,
    @Inject(ENVIRONMENT) private readonly env: Environment,
    @InjectPinoLogger(TimeWatchService.name) private readonly logger: PinoLogger,
  ) {
    this.due = new PeriodicTask(
      () => this.sweepDue(),
      (error) => this.logger.error({ err: error }, 'scheduled missions sweep failed'),
      redis,
    );
    this.walk = new DueMissionsWalk(redis, new PassedOverMissions('the due and deadline sweep', (message) => this.logger.warn(message)));
    this.overdue = new PeriodicTask(
      () => this.sweepOverdue(),
      (error) => this.logger.error({ err: error }, 'deadline sweep failed'),
      redis,
    );
  }

  onApplicationBootstrap(): void {
    this.due.start(this.env.SCHEDULE_CHECK_MS);
    this.overdue.start(this.env.DEADLINE_CHECK_MS);
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all([this.due.stop(), this.overdue.stop()]);
  }

  /** Queues every scheduled mission due at `now`; returns how many this call queued. */
  sweepDue(now = new Date()): Promise<number> {
    return this.sweep(DUE, now, SERVICE_ACTORS.schedule);
  }

  /** Records every unfinished mission past its deadline at `now`; returns how many this call recorded. */
  async sweepOverdue(now = new Date()): Promise<number> {
    const recorded = await this.sweep(OVERDUE, now, SERVICE_ACTORS.deadlineWatch);
    if (recorded > 0) this.logger.info({ recorded }, 'missions past their deadline recorded as overdue');
    return recorded;
  }

  private async sweep(sets: readonly TimedSet[], now: Date, actor: string): Promise<number> {
    let changed = 0;
    for (const partition of this.keys.partitions) {
      for (const set of sets) {
        const key = set.keyOf(partition);
        await this.walk.walk(partition, key, String(now.getTime()), async (missionId) => {
          const outcome = await this.pipeline.transition(missionId, (mission) => set.decide(mission, now), { actor, now });
          if (outcome.kind !== 'appended') return DueEntry.staleAfter(withoutLease(outcome));
          changed += 1;
          return DueEntry.Left;
        });
      }
    }
    return changed;
  }
}
