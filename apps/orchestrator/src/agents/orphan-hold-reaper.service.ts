import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { AgentSlots, ReleaseCode, StoredHold } from '@app/agents';
import { Environment } from '@app/config';
import { MissionStore } from '@app/event-store';
import { ENVIRONMENT } from '@app/runtime';

/**
 * Gives back agent slots that were claimed for an assignment that was never appended: the
 * orchestrator died between the claim and the append. A hold counts as an orphan only once it is
 * older than two leases: by then its lease has run out, so the assignment can no longer be
 * appended, and nothing can make the hold live again.
 */
@Injectable()
export class OrphanHoldReaper implements OnApplicationBootstrap, OnModuleDestroy {
  private timer: NodeJS.Timeout | undefined;
  private reaping: Promise<number> = Promise.resolve(0);

  constructor(
    private readonly slots: AgentSlots,
    private readonly store: MissionStore,
    @Inject(ENVIRONMENT) private readonly env: Environment,
    @InjectPinoLogger(OrphanHoldReaper.name) private readonly logger: PinoLogger,
  ) {}

  private get graceMs(): number {
    return 2 * this.env.LEASE_MS;
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.reaping = this.reaping.then(() => this.reap()).catch((error: unknown) => {
        this.logger.warn({ err: error }, 'reaping orphan agent holds failed');
        return 0;
      });
    }, this.env.LEASE_MS);
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.reaping;
  }

  /** Releases every orphan hold; returns how many. */
  async reap(now = Date.now()): Promise<number> {
    let released = 0;
    for (const hold of await this.slots.holds()) {
      if (now - hold.at <= this.graceMs || (await this.belongsToAssignment(hold))) continue;
      if ((await this.slots.release(hold, undefined, hold)) === ReleaseCode.Released) {
        released += 1;
        this.logger.warn({ missionId: hold.missionId, attempt: hold.attempt, agentId: hold.agentId }, 'released an orphan agent hold');
      }
    }
    return released;
  }

  /** Whether the mission's log has the assignment the hold was claimed for (its release is then on its way). */
  private async belongsToAssignment(hold: StoredHold): Promise<boolean> {
    const mission = await this.store.load(hold.missionId);
    if (!mission || mission.attempts < hold.attempt) return false;
    if (mission.attempts === hold.attempt && mission.assignedAgentId === hold.agentId) return true;
    const history = await this.store.history(hold.missionId);
    return history.some((event) => event.type === 'MissionAssigned' && event.data.agentId === hold.agentId && event.data.attempt === hold.attempt);
  }
}
