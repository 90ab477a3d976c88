import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { lastValueFrom } from 'rxjs';
import { v7 as uuidv7 } from 'uuid';
import { AgentRegistry, AgentSnapshot, rankAgents } from '@app/agents';
import { MissionStore } from '@app/event-store';
import { MissionsLeased, Patterns } from '@app/messages';
import { decideAssign, Mission } from '@app/mission';
import { RedisStreamsClient } from '@app/redis-streams';
import { INTAKE_CLIENT } from './intake-client';

/**
 * A lease request unanswered this long is given up and may be sent again. With several
 * orchestrators a reply can be consumed by another instance (the stream is shared), so this is
 * short; an extra request only leases missions that are placed or handed back at once.
 */
const LEASE_REPLY_TIMEOUT_MS = 250;
/**
 * How far past missions that no free agent can take a lease may look, so they hold up nothing
 * behind them, without re-leasing a long run of them on every pass.
 */
const MAX_LOOKAHEAD = 100;
/** Safety net for a lost notification: look for work at least this often. */
const IDLE_POKE_MS = 1_000;

/**
 * Pulls work from the intake's ready queue only when agents have room, so the queue, not this
 * service, holds the backlog and priority order is kept under load. One lease request is in flight
 * at a time; notifications that arrive meanwhile are folded into one follow-up request.
 */
@Injectable()
export class Dispatcher implements OnApplicationBootstrap, OnModuleDestroy {
  private pendingRequest: { id: string; sentAt: number } | null = null;
  private wantsAnotherLook = false;
  /** Missions of the last lease that no free agent could take; the next lease asks for that many more. */
  private blocked = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly registry: AgentRegistry,
    private readonly store: MissionStore,
    @Inject(INTAKE_CLIENT) private readonly intake: RedisStreamsClient,
    @InjectPinoLogger(Dispatcher.name) private readonly logger: PinoLogger,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.lookForWork(), IDLE_POKE_MS);
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** Asks the intake for as many missions as agents can take now. */
  async lookForWork(): Promise<void> {
    if (this.pendingRequest && Date.now() - this.pendingRequest.sentAt < LEASE_REPLY_TIMEOUT_MS) {
      this.wantsAnotherLook = true;
      return;
    }
    this.wantsAnotherLook = false;
    const requestId = uuidv7();
    this.pendingRequest = { id: requestId, sentAt: Date.now() };
    try {
      const free = spareSlots(await this.registry.snapshot());
      if (free === 0) {
        this.pendingRequest = null;
        return;
      }
      await lastValueFrom(this.intake.emit(Patterns.intake.leaseRequested, { requestId, max: free + this.blocked }));
    } catch (error) {
      this.pendingRequest = null;
      this.logger.error({ err: error }, 'requesting a lease failed');
    }
  }

  /** Assigns each leased mission to its best agent; hands back those no agent can take now. */
  async place(leased: MissionsLeased): Promise<void> {
    // Any reply means the intake is answering; this instance may ask again once it has placed these.
    this.pendingRequest = null;
    const agents = await this.registry.snapshot();
    const outcomes = await Promise.all(leased.missions.map((mission) => this.assign(mission, agents)));
    const unplaced = leased.missions.filter((_, i) => outcomes[i] !== 'placed').map((m) => m.id);
    this.blocked = Math.min(MAX_LOOKAHEAD, outcomes.filter((outcome) => outcome === 'no-agent').length);
    if (unplaced.length > 0) await lastValueFrom(this.intake.emit(Patterns.intake.leaseReturned, { missionIds: unplaced }));
    if (outcomes.includes('placed') || this.wantsAnotherLook) await this.lookForWork();
  }

  /**
   * Tries the ranked agents in turn. The slot is claimed by the append script, so two
   * orchestrators can never overfill an agent; a stale local view just moves on to the next one.
   * 'no-agent': no free agent has the skills; 'lost-race': qualified agents filled up meanwhile.
   */
  private async assign(mission: Mission, agents: AgentSnapshot[]): Promise<'placed' | 'no-agent' | 'lost-race'> {
    const now = Date.now();
    const candidates = rankAgents(agents, mission);
    if (candidates.length === 0) return 'no-agent';
    for (const agent of candidates) {
      agent.load += 1;
      const outcome = await this.store.transition(
        mission,
        (current) => decideAssign(current, agent.id),
        { actor: 'orchestrator' },
        (next) => [
          { kind: 'require-lease' },
          { kind: 'claim-agent', agentId: agent.id },
          { kind: 'record-assignment', agentId: agent.id, at: now },
          { kind: 'emit', to: 'executor', pattern: Patterns.executor.missionAssigned, data: { mission: next } },
        ],
      );
      if (outcome.kind !== 'agent_full') {
        if (outcome.kind !== 'appended') agent.load -= 1;
        return 'placed';
      }
      agent.load = agent.capacity;
    }
    return 'lost-race';
  }
}

function spareSlots(agents: readonly AgentSnapshot[]): number {
  return agents
    .filter((agent) => agent.status === 'online')
    .reduce((sum, agent) => sum + Math.max(0, agent.capacity - agent.load), 0);
}
