import { join } from 'node:path';
import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { Environment } from '@app/config';
import { KeyLayout, PartitionKeys, PassedOverMissions } from '@app/event-store';
import { decideDue, decideOverdue, Decision, Mission, SERVICE_ACTORS } from '@app/mission';
import { MissionPipeline } from '@app/pipeline';
import { LuaScript, luaEnum, RedisConnection } from '@app/redis';
import { ENVIRONMENT, PeriodicTask, REDIS } from '@app/runtime';

/** Missions looked at per set, partition and sweep; the rest wait for the next sweep. */
const SWEEP_BATCH = 200;

enum ForgetCode {
  Forgotten = 0,
  Kept = 1,
}

const forgetScript = new LuaScript(join(__dirname, 'lua'), 'forget-timed-entry-1', { constants: { CODE: luaEnum(ForgetCode) } });

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
 * missions past their deadline get MissionOverdue. A sweep reads only what is due. Every intake
 * instance sweeps; the append at the mission's version lets exactly one of them act.
 */
@Injectable()
export class TimeWatchService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly due: PeriodicTask;
  private readonly overdue: PeriodicTask;
  /** A mission whose stored data cannot be read: passed over, named once, and left in its set. */
  private readonly passedOver: PassedOverMissions;

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
    this.passedOver = new PassedOverMissions('the due and deadline sweep', (message) => this.logger.warn(message));
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
        const due = await this.redis.zrangebyscore(key, '-inf', now.getTime(), 'WITHSCORES', 'LIMIT', 0, SWEEP_BATCH);
        for (let i = 0; i + 1 < due.length; i += 2) {
          const missionId = due[i];
          const outcome = await this.passedOver.step(missionId, () =>
            this.pipeline.transition(missionId, (mission) => set.decide(mission, now), { actor, now }),
          );
          // Its stored data cannot be read: it stays in the set, for a sweep after `replay rebuild` has mended it.
          if (outcome === undefined) continue;
          if (outcome.kind === 'appended') changed += 1;
          // Another instance acted first, or the mission moved on meanwhile: nothing left to wait for
          // in the entry read. One written since (the mission came back, at a new time) stays.
          else await forgetScript.run(this.redis, [key], [missionId, due[i + 1]]);
        }
      }
    }
    return changed;
  }
}
