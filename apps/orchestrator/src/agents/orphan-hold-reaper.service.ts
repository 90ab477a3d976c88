import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { AgentSlots, ReleaseCode } from '@app/agents';
import { Environment } from '@app/config';
import { MissionStore, PassedOverMissions } from '@app/event-store';
import { RedisConnection } from '@app/redis';
import { ENVIRONMENT, PeriodicTask, REDIS } from '@app/runtime';
import { holdState } from './hold-state';

/** Leases after which an ended attempt's hold is freed by the reaper: its release should have come long before. */
const ENDED_GRACE_LEASES = 10;

/**
 * Frees agent slots that nothing else will free:
 * - an orphan: claimed for an assignment that was never appended (the orchestrator died in
 *   between). Given back once it is older than two leases: by then its lease has run out, so the
 *   assignment can no longer be appended.
 * - an ended attempt whose release never came (its `agent.released` message ended in the poison
 *   stream). Ended after ENDED_GRACE_LEASES leases, without a credit, with a warning.
 */
@Injectable()
export class OrphanHoldReaper implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly task: PeriodicTask;
  /** A hold of a mission whose stored data cannot be read: kept, named once. */
  private readonly passedOver: PassedOverMissions;

  constructor(
    private readonly slots: AgentSlots,
    private readonly store: MissionStore,
    @Inject(ENVIRONMENT) private readonly env: Environment,
    /** The connection the slots and the store wait on: the reaper's task is given it for its stop. */
    @Inject(REDIS) redis: RedisConnection,
    @InjectPinoLogger(OrphanHoldReaper.name) private readonly logger: PinoLogger,
  ) {
    this.passedOver = new PassedOverMissions('the orphan-hold reaper', (message) => this.logger.warn(message));
    this.task = new PeriodicTask(
      () => this.reap(),
      (error) => this.logger.warn({ err: error }, 'reaping orphan agent holds failed'),
      redis,
    );
  }

  onApplicationBootstrap(): void {
    this.task.start(this.env.LEASE_MS);
  }

  async onModuleDestroy(): Promise<void> {
    await this.task.stop();
  }

  /** Frees every orphan hold and every long-ended one, aged by Redis's clock (`now`: a test's); returns how many. */
  async reap(at?: number): Promise<number> {
    const now = at ?? (await this.slots.now());
    let freed = 0;
    for (const hold of await this.slots.holds()) {
      const age = now - hold.at;
      if (age <= 2 * this.env.LEASE_MS) continue;
      const state = await this.passedOver.step(hold.missionId, () => holdState(this.store, hold));
      // Its mission's stored data cannot be read: whether the hold is its attempt's cannot be told, so it is kept.
      if (state === undefined) continue;
      const where = { missionId: hold.missionId, attempt: hold.attempt, agentId: hold.agentId };
      if (state === 'orphan' && (await this.slots.giveBack(hold, hold.raw)) === ReleaseCode.Released) {
        freed += 1;
        this.logger.warn(where, 'gave back an orphan agent hold');
      } else if (state === 'ended' && age > ENDED_GRACE_LEASES * this.env.LEASE_MS && (await this.slots.endAttempt(hold)) === ReleaseCode.Released) {
        freed += 1;
        this.logger.warn(where, 'freed the slot of an ended attempt whose release never came (its verdict, if any, is not credited)');
      }
    }
    return freed;
  }
}
