import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { SpanKind } from '@opentelemetry/api';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { v7 as uuidv7 } from 'uuid';
import { AgentRegistry, AgentSlots, AgentSnapshot, ClaimCode, rankAgents, SlotHold } from '@app/agents';
import { Environment } from '@app/config';
import { KeyLayout, MISSION_HASH_FIELDS, MissionStore, PassedOverMissions, readMissionFields, UnreadableStoredDataError } from '@app/event-store';
import { FailureStreak } from '@app/logging';
import { decideAssign, Mission, SERVICE_ACTORS } from '@app/mission';
import { FreeAgent, ReadyQueue } from '@app/mission-queue';
import { MissionPipeline } from '@app/pipeline';
import { RedisConnection } from '@app/redis';
import { ENVIRONMENT, REDIS } from '@app/runtime';
import { ServiceTracer, untraced } from '@app/tracing';
import { holdState } from '../agents/hold-state';
import { DispatchMetrics } from './dispatch-metrics';

/** Safety net for a lost notification: look for work at least this often. */
const IDLE_POKE_MS = 1_000;
/** Rounds of re-planning missions whose planned agent filled up meanwhile, before handing them back. */
const MAX_CLAIM_ROUNDS = 3;

type Outcome = 'placed' | 'no-agent' | 'lost-race' | 'refused' | 'not-assigned';

/**
 * Pulls work from the ready queues only when agents have room, so the queues, not this service,
 * hold the backlog and priority order is kept under load. A look leases, from every log partition
 * in one round trip each, only missions one of the free agents can take (the queue library's lease
 * script, run here rather than through a message to the intake: one round trip instead of two
 * stream hops per lease), places them, hands back the ones it could not place, and looks again
 * while it placed anything. One look runs at a time; notifications that arrive meanwhile are
 * folded into one more look after it.
 */
@Injectable()
export class Dispatcher implements OnApplicationBootstrap, OnModuleDestroy {
  private looking: Promise<void> | null = null;
  private lookAgain = false;
  private timer: NodeJS.Timeout | undefined;
  private scheduledLook: Promise<void> | null = null;
  /** A look runs every second while idle: an outage is logged when it begins and when it ends. */
  /**
   * Named once: a leased mission whose state cannot be read (left leased until its lease runs out),
   * and a ready one whose hash no longer says how it is counted (of another Redis type, deleted,
   * or without its queue fields: the lease leaves it ready and takes the ones behind it in its
   * stead). One handed back that is left out of the ready queue for such a hash is named where it
   * is handed back: no look meets it again.
   */
  private readonly passedOver = new PassedOverMissions('the dispatcher', (message) => this.logger.warn(message));
  private readonly lookFailures = new FailureStreak({
    failing: (error) => this.logger.error({ err: error }, 'looking for work failed'),
    recovered: (failures, forMs) => this.logger.info({ failures, forMs }, 'looking for work works again'),
  });

  constructor(
    private readonly registry: AgentRegistry,
    private readonly slots: AgentSlots,
    private readonly store: MissionStore,
    private readonly pipeline: MissionPipeline,
    private readonly queue: ReadyQueue,
    private readonly keys: KeyLayout,
    @Inject(ENVIRONMENT) private readonly env: Environment,
    private readonly metrics: DispatchMetrics,
    @InjectPinoLogger(Dispatcher.name) private readonly logger: PinoLogger,
    @Inject(REDIS) private readonly redis: RedisConnection,
    private readonly tracer: ServiceTracer,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.lookForWork(), IDLE_POKE_MS);
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /**
   * Looks for work once the messages being handled now are through: a read batch often holds many
   * releases and nudges, and one look after all of them leases for all the freed slots at once.
   */
  lookSoon(): Promise<void> {
    this.scheduledLook ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      this.scheduledLook = null;
      return this.lookForWork();
    });
    return this.scheduledLook;
  }

  /** Leases and places until no free agent has anything to take; a look asked for meanwhile runs once after. */
  async lookForWork(): Promise<void> {
    if (this.looking) {
      this.lookAgain = true;
      return this.looking;
    }
    // A look serves whatever is ready, not the message that asked for it: each assignment joins its own mission's trace.
    this.looking = untraced(() => this.look()).finally(() => {
      this.looking = null;
    });
    await this.looking;
    if (this.lookAgain) {
      this.lookAgain = false;
      await this.lookForWork();
    }
  }

  private async look(): Promise<void> {
    try {
      while (await this.leaseAndPlace()) {
        // Placed something: agents may have room for more.
      }
      this.lookFailures.succeeded();
    } catch (error) {
      this.lookFailures.failed(error);
    }
  }

  /** One round: lease for the free agents from every partition, place, hand back the rest. Whether anything was placed. */
  private async leaseAndPlace(): Promise<boolean> {
    const agents = await this.registry.snapshot();
    const partitions = this.keys.partitions.length;
    // Each partition may lease its share of every free agent's slots.
    const free: FreeAgent[] = freeAgents(agents).map((agent) => ({ ...agent, free: Math.ceil(agent.free / partitions) }));
    if (free.length === 0) return false;
    const max = free.reduce((sum, agent) => sum + agent.free, 0);
    const leaseId = uuidv7();
    const onUnreadable = (error: UnreadableStoredDataError) => this.passedOver.note(error);
    const leases = await Promise.all(
      this.keys.partitions.map((_, partition) => this.queue.lease(partition, max, this.env.LEASE_MS, leaseId, { freeAgents: free, onUnreadable })),
    );
    const readFine = leases.flat();
    // Mended since it was passed over, a mission is named again should it break once more.
    for (const { mission } of readFine) this.passedOver.readable(mission.id);
    // Each partition's lease is in queue order; merged by the scores they had there, the best of all partitions get the scarce slots first.
    const leased = readFine.sort((a, b) => a.readyScore - b.readyScore || (a.mission.id < b.mission.id ? -1 : 1)).map(({ mission }) => mission);
    if (leased.length === 0) return false;
    let outcomes: Outcome[] = [];
    try {
      // Traced: the trace each mission was queued in, so its assignment continues it.
      const traces = this.tracer.enabled
        ? await readMissionFields(
            this.redis,
            this.keys,
            leased.map((mission) => mission.id),
            MISSION_HASH_FIELDS.traceParent,
          )
        : null;
      outcomes = await this.assignAll(leased, agents, leaseId, traces);
    } finally {
      // Whatever was not placed goes back now rather than when the lease runs out, also after a failure.
      const unplaced = leased.filter((_, i) => outcomes[i] !== 'placed').map((mission) => mission.id);
      if (unplaced.length > 0)
        await this.queue.release(unplaced, leaseId, {
          announce: false,
          onUnreadable: (error, staysOut) => this.logger.warn({ missionId: error.missionId }, `the dispatcher handed back ${error.message}, ${staysOut}`),
        });
    }
    return outcomes.includes('placed');
  }

  /**
   * Plans the best agent for every mission on the local view, claims all those slots in one round
   * trip, and appends the assignments that got one. Claims are atomic in Redis, so two
   * orchestrators never overfill an agent; a mission whose agent filled up meanwhile is planned
   * again on the next best one. 'no-agent': no free agent has the skills; 'lost-race': qualified
   * agents filled up meanwhile; 'refused': the slot store knows the attempt as ended on the agents
   * tried (a stale view of the mission, e.g. from a paused orchestrator): counted, logged, planned on
   * the next agent, and else handed back - fenced by the lease id, so a newer lease keeps it;
   * 'not-assigned': the log took no assignment and the slot was given back (appendAssignment).
   */
  private async assignAll(
    missions: readonly Mission[],
    agents: AgentSnapshot[],
    leaseId: string,
    traces: readonly (string | null)[] | null,
  ): Promise<Outcome[]> {
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
            agent.load -= 1;
            open.push(index);
            this.metrics.claimsRefused.inc();
            this.logger.warn(
              { missionId: hold.missionId, attempt: hold.attempt, agentId: hold.agentId, leaseId },
              'slot claim refused: the attempt already ended on this agent',
            );
            return;
          }
          const assign = () => this.appendAssignment(missions[index], hold, claims[i].raw, leaseId);
          const outcome = traces
            ? await this.tracer.inSpan(
                'assign mission',
                { traceparent: traces[index] ?? undefined },
                SpanKind.INTERNAL,
                { 'brain.mission.id': hold.missionId, 'brain.agent.id': hold.agentId, 'brain.mission.attempt': hold.attempt },
                assign,
              )
            : await assign();
          // Its slot was given back: a later round of this look may plan another mission on it.
          if (outcome === 'not-assigned') agent.load -= 1;
          outcomes[index] = outcome;
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
   * claim wrote it, so a claim made since by another orchestrator keeps it, and the mission is
   * 'not-assigned' (handed back with the rest of the lease, if still leased to it: a lease that ran
   * out, say during a pause longer than LEASE_MS, must not keep the mission leased and the look going).
   */
  private async appendAssignment(mission: Mission, hold: SlotHold, claimed: string, leaseId: string): Promise<Outcome> {
    const outcome = await this.pipeline.transition(mission, (current) => decideAssign(current, hold.agentId, hold.attempt), {
      actor: SERVICE_ACTORS.orchestrator,
      leaseId,
    });
    // The mission's state at the lease was last changed by its MissionQueued.
    if (outcome.kind === 'appended')
      this.metrics.queueWait.observe({ type: mission.type, priority: mission.priority }, (Date.now() - Date.parse(mission.updatedAt)) / 1000);
    if (outcome.kind !== 'appended' && (await holdState(this.store, hold)) === 'orphan') {
      await this.slots.giveBack(hold, claimed);
      return 'not-assigned';
    }
    return 'placed';
  }
}

/** The online agents with room, as a lease names them. */
function freeAgents(agents: readonly AgentSnapshot[]): FreeAgent[] {
  return agents
    .filter((agent) => agent.status === 'online' && agent.capacity > agent.load)
    .map((agent) => ({ free: agent.capacity - agent.load, skills: [...agent.skills] }));
}
