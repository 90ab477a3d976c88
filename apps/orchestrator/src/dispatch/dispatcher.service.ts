import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { lastValueFrom } from 'rxjs';
import { v7 as uuidv7 } from 'uuid';
import { AgentRegistry, AgentSlots, AgentSnapshot, ClaimCode, rankAgents, SlotHold } from '@app/agents';
import { KeyLayout, MissionStore } from '@app/event-store';
import { FreeAgentDto, MissionsLeased, Patterns } from '@app/messages';
import { decideAssign, Mission } from '@app/mission';
import { RedisStreamsClient } from '@app/redis-streams';
import { holdState } from '../agents/hold-state';
import { DispatchMetrics } from './dispatch-metrics';
import { INTAKE_CLIENT } from './intake-client';

/**
 * A lease request unanswered this long is given up and may be sent again. With several
 * orchestrators a reply can be consumed by another instance (the stream is shared), so this is
 * short; an extra request only leases missions that are placed or handed back at once.
 */
const LEASE_REPLY_TIMEOUT_MS = 250;
/** Safety net for a lost notification: look for work at least this often. */
const IDLE_POKE_MS = 1_000;
/** Rounds of re-planning missions whose planned agent filled up meanwhile, before handing them back. */
const MAX_CLAIM_ROUNDS = 3;

type Outcome = 'placed' | 'no-agent' | 'lost-race' | 'refused';

/**
 * Pulls work from the intake's ready queue only when agents have room, so the queue, not this
 * service, holds the backlog and priority order is kept under load. A lease request names the free
 * agents and their skills, so the intake leases only missions one of them can take: a mission no
 * free agent can serve waits without holding up those behind it. One lease request per partition
 * is in flight at a time; notifications that arrive meanwhile are folded into one follow-up.
 */
@Injectable()
export class Dispatcher implements OnApplicationBootstrap, OnModuleDestroy {
  /** Per log partition: the lease request waiting for its reply. */
  private readonly pendingRequests: ({ id: string; sentAt: number } | null)[];
  private wantsAnotherLook = false;
  private timer: NodeJS.Timeout | undefined;
  private scheduledLook: Promise<void> | null = null;

  constructor(
    private readonly registry: AgentRegistry,
    private readonly slots: AgentSlots,
    private readonly store: MissionStore,
    keys: KeyLayout,
    @Inject(INTAKE_CLIENT) private readonly intake: RedisStreamsClient,
    private readonly metrics: DispatchMetrics,
    @InjectPinoLogger(Dispatcher.name) private readonly logger: PinoLogger,
  ) {
    this.pendingRequests = keys.partitions.map(() => null);
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.lookForWork(), IDLE_POKE_MS);
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /**
   * Looks for work once the messages being handled now are through: a read batch often holds many
   * releases and nudges, and one look after all of them asks for all the freed slots at once
   * instead of one slot per lease round trip.
   */
  lookSoon(): Promise<void> {
    this.scheduledLook ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      this.scheduledLook = null;
      return this.lookForWork();
    });
    return this.scheduledLook;
  }

  /**
   * Asks the intake for as many missions as agents can take now, shared out over the log
   * partitions (each has its own ready queue); a partition with a request still unanswered is
   * asked again once that reply arrives.
   */
  async lookForWork(): Promise<void> {
    const now = Date.now();
    const askable = this.pendingRequests
      .map((pending, partition) => (pending && now - pending.sentAt < LEASE_REPLY_TIMEOUT_MS ? -1 : partition))
      .filter((partition) => partition >= 0);
    this.wantsAnotherLook = askable.length < this.pendingRequests.length;
    if (askable.length === 0) return;
    const requests = askable.map((partition) => ({ partition, requestId: uuidv7() }));
    for (const { partition, requestId } of requests) this.pendingRequests[partition] = { id: requestId, sentAt: now };
    try {
      // Each partition may lease its share of every free agent's slots.
      const partitions = this.pendingRequests.length;
      const agents = freeAgents(await this.registry.snapshot()).map((agent) => ({ ...agent, free: Math.ceil(agent.free / partitions) }));
      if (agents.length === 0) {
        for (const { partition } of requests) this.pendingRequests[partition] = null;
        return;
      }
      const max = agents.reduce((sum, agent) => sum + agent.free, 0);
      await Promise.all(
        requests.map(({ partition, requestId }) =>
          lastValueFrom(this.intake.emit(Patterns.intake.leaseRequested, { requestId, partition, max, agents })),
        ),
      );
    } catch (error) {
      for (const { partition } of requests) this.pendingRequests[partition] = null;
      this.logger.error({ err: error }, 'requesting a lease failed');
    }
  }

  /** Assigns each leased mission to its best agent; hands back those no agent can take now. */
  async place(leased: MissionsLeased, partition: number): Promise<void> {
    // Any reply means the intake is answering; this instance may ask again once it has placed these.
    this.pendingRequests[partition] = null;
    const agents = await this.registry.snapshot();
    const outcomes = await this.assignAll(leased.missions, agents, leased.requestId);
    const unplaced = leased.missions.filter((_, i) => outcomes[i] !== 'placed').map((m) => m.id);
    if (unplaced.length > 0) {
      await lastValueFrom(this.intake.emit(Patterns.intake.leaseReturned, { missionIds: unplaced, leaseId: leased.requestId }));
    }
    if (outcomes.includes('placed') || this.wantsAnotherLook) await this.lookForWork();
  }

  /**
   * Plans the best agent for every mission on the local view, claims all those slots in one round
   * trip, and appends the assignments that got one. Claims are atomic in Redis, so two
   * orchestrators never overfill an agent; a mission whose agent filled up meanwhile is planned
   * again on the next best one. 'no-agent': no free agent has the skills; 'lost-race': qualified
   * agents filled up meanwhile; 'refused': the slot store knows the attempt as ended, so this lease
   * is stale (a late or repeated lease message) and goes back at once - fenced by its lease id,
   * so a newer lease of the mission keeps it.
   */
  private async assignAll(missions: readonly Mission[], agents: AgentSnapshot[], leaseId: string): Promise<Outcome[]> {
    const outcomes = new Array<Outcome>(missions.length).fill('lost-race');
    const tried = missions.map(() => new Set<string>());
    let open = missions.map((_, i) => i);
    for (let round = 0; round < MAX_CLAIM_ROUNDS && open.length > 0; round++) {
      const plan: { index: number; agent: AgentSnapshot; hold: SlotHold }[] = [];
      for (const index of open) {
        const mission = missions[index];
        const agent = rankAgents(agents, mission).find((candidate) => !tried[index].has(candidate.id));
        if (!agent) {
          if (tried[index].size === 0) outcomes[index] = 'no-agent';
          continue;
        }
        tried[index].add(agent.id);
        agent.load += 1;
        plan.push({ index, agent, hold: { agentId: agent.id, missionId: mission.id, attempt: mission.attempts + 1 } });
      }
      const claims = await this.slots.claim(plan.map((step) => step.hold));
      open = [];
      await Promise.all(
        plan.map(async ({ index, agent, hold }, i) => {
          if (claims[i].code === ClaimCode.AgentFull) {
            agent.load = agent.capacity;
            open.push(index);
            return;
          }
          if (claims[i].code === ClaimCode.Ended) {
            outcomes[index] = 'refused';
            this.metrics.claimsRefused.inc();
            this.logger.warn({ missionId: hold.missionId, attempt: hold.attempt, agentId: hold.agentId, leaseId }, 'slot claim refused: the attempt already ended; lease handed back');
            return;
          }
          outcomes[index] = await this.appendAssignment(missions[index], hold, claims[i].raw, leaseId);
        }),
      );
    }
    return outcomes;
  }

  /**
   * Appends the assignment the slot was claimed for. When the append is refused or skipped, the
   * log decides what the slot is: the assignment may be there all the same (the reply to this
   * append was lost and the resent one met it, or another orchestrator made it) and then the slot
   * is live; only when the log has no such assignment is the slot given back, and only as this
   * claim wrote it, so a claim made since by another orchestrator keeps it.
   */
  private async appendAssignment(mission: Mission, hold: SlotHold, claimed: string, leaseId: string): Promise<Outcome> {
    const outcome = await this.store.transition(
      mission,
      (current) => decideAssign(current, hold.agentId, hold.attempt),
      { actor: 'orchestrator' },
      [
        { kind: 'require-lease', leaseId },
        { kind: 'emit-mission', to: 'executor', pattern: Patterns.executor.missionAssigned },
      ],
    );
    if (outcome.kind !== 'appended' && (await holdState(this.store, hold)) === 'orphan') await this.slots.giveBack(hold, claimed);
    return 'placed';
  }
}

/** The online agents with room, as a lease request names them. */
function freeAgents(agents: readonly AgentSnapshot[]): FreeAgentDto[] {
  return agents
    .filter((agent) => agent.status === 'online' && agent.capacity > agent.load)
    .map((agent) => ({ free: agent.capacity - agent.load, skills: [...agent.skills] }));
}
