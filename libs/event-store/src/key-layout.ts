import { ServiceName } from '@app/messages';
import { hashString } from '@app/mission';

/** How many minutes the per-minute counts keep a minute after it: the throughput chart's longest span. */
export const PER_MINUTE_KEPT_MINUTES = 60;

/**
 * The keys of one log partition. Everything a mission transition touches lives here under one
 * hash tag, `{m<index>}`: the missions of the partition, its part of the event log, its ready
 * queue, leases and dead letters, and the service streams that carry its messages. So every
 * script touches a single Redis Cluster slot, and partitions spread over the cluster's nodes.
 */
export class PartitionKeys {
  private readonly base: string;

  constructor(
    readonly prefix: string,
    readonly index: number,
  ) {
    this.base = `${prefix}{m${index}}:`;
  }

  /** This partition's append-only event log. */
  get log(): string {
    return `${this.base}log`;
  }
  /** SHA-1 of the last event in this partition's log: the head of its hash chain. */
  get logHead(): string {
    return `${this.base}log:head`;
  }
  mission(id: string): string {
    return `${this.base}mission:${id}`;
  }
  missionEvents(id: string): string {
    return `${this.base}mission:${id}:events`;
  }
  /** Prefix of mission hashes, for scripts that derive a mission key from its id. */
  get missionPrefix(): string {
    return `${this.base}mission:`;
  }
  get missionIndex(): string {
    return `${this.base}missions`;
  }
  get statusCounts(): string {
    return `${this.base}stats:status`;
  }
  get counters(): string {
    return `${this.base}stats:counters`;
  }
  idempotency(key: string): string {
    return `${this.base}idem:${key}`;
  }
  get ready(): string {
    return `${this.base}queue:ready`;
  }
  /** The ready missions by the time they were queued (the ready queue itself is ordered by head start). */
  get readySince(): string {
    return `${this.base}queue:ready-since`;
  }
  /** Ready missions per priority level. */
  get readyByLevel(): string {
    return `${this.base}queue:ready-by-level`;
  }
  /** Ready missions per set of required skills (comma-separated, as `sk` in the mission hash). */
  get readyBySkills(): string {
    return `${this.base}queue:ready-by-skills`;
  }
  /**
   * Prefix of the ready queues per skill set: `<prefix><skills>` holds the ready missions that
   * need exactly those skills, with their ready-queue score, so a lease reads only the missions
   * its free agents can take.
   */
  get readyWithSkillsPrefix(): string {
    return `${this.base}queue:ready-sk:`;
  }
  /**
   * Missions enqueued (e:<minute>) and dequeued (d:<minute>) per minute since the epoch, each
   * minute kept for PER_MINUTE_KEPT_MINUTES (includes/per-minute-counts.lua).
   */
  get perMinute(): string {
    return `${this.base}stats:per-minute`;
  }
  get leased(): string {
    return `${this.base}queue:leased`;
  }
  /** Who holds each lease: mission id -> the id of the lease request it was leased to. */
  get leaseOwners(): string {
    return `${this.base}queue:lease-owners`;
  }
  get deadLetters(): string {
    return `${this.base}queue:dlq`;
  }
  /** Scheduled missions (a later start, or a retry's backoff): mission id, score = when they are due (ms). */
  scheduled(reason: 'delayed' | 'retry'): string {
    return `${this.base}queue:${reason === 'delayed' ? 'scheduled' : 'backoff'}`;
  }
  /** Missions awaiting a reviewer, by the time the review was asked for (ms). */
  get awaitingReview(): string {
    return `${this.base}queue:review`;
  }
  /** The reviews not yet found overdue, by the time they were asked for: what the overdue sweep reads. */
  get reviewDeadlines(): string {
    return `${this.base}queue:review-due`;
  }
  /** Unfinished missions with a deadline not yet found passed: mission id, score = deadline (ms). */
  get deadlines(): string {
    return `${this.base}deadlines:watched`;
  }
  /** Unfinished missions past their deadline: mission id, score = when found overdue (ms). */
  get overdue(): string {
    return `${this.base}deadlines:overdue`;
  }
  /**
   * Finished missions of one type that name data subjects: mission id, score = when it finished
   * (ms). The retention sweep reads those past their type's RETENTION_DAYS, and drops a mission
   * once every subject it names is erased.
   */
  retention(type: string): string {
    return `${this.base}retention:${type}`;
  }
  stream(service: ServiceName): string {
    return `${this.base}stream:${service}`;
  }
  /** Present while a nudge to the service is fresh (see the `nudge-orchestrator` effect). */
  nudge(service: ServiceName): string {
    return `${this.base}nudge:${service}`;
  }
  /** Invalid `mission.submit` commands, with the reason, for the sending team to look at. */
  get rejectedSubmissions(): string {
    return `${this.base}stream:intake:rejected`;
  }
  poison(service: ServiceName): string {
    return `${this.base}stream:${service}:poison`;
  }
  /**
   * The missions of this partition about a data subject (ids), written with each MissionCreated
   * that names the subject: what an erasure or an access request reads, one set per partition.
   */
  subjectMissions(subject: string): string {
    return `${this.base}subject:${subject}:missions`;
  }
  /** Where a read-model rebuild keeps a mission's rebuilt copy until it switches over. */
  rebuildScratch(runId: string, missionId: string): string {
    return `${this.base}rebuild:${runId}:mission:${missionId}`;
  }
}

/**
 * Every Redis key the system uses. Missions are spread over `partitions` log partitions by a hash
 * of their id (see PartitionKeys); the agents live under their own hash tag `{a}`. `KEY_PREFIX`
 * keeps deployments (and test runs) apart.
 */
export class KeyLayout {
  /** Every partition, by index. */
  readonly partitions: readonly PartitionKeys[];
  private readonly agentBase: string;

  constructor(
    readonly prefix: string,
    partitionCount = 1,
  ) {
    if (!Number.isInteger(partitionCount) || partitionCount < 1) throw new Error(`partition count must be a positive integer, got ${partitionCount}`);
    this.partitions = Array.from({ length: partitionCount }, (_, index) => new PartitionKeys(prefix, index));
    this.agentBase = `${prefix}{a}:`;
  }

  partitionOf(missionId: string): number {
    return this.partitions.length === 1 ? 0 : hashString(missionId) % this.partitions.length;
  }
  /**
   * The positions of `ids` by partition index, for one pipeline (or script call) per partition:
   * on a Redis Cluster one may only touch one node.
   */
  groupByPartition(ids: readonly string[]): Map<number, number[]> {
    const groups = new Map<number, number[]>();
    ids.forEach((id, position) => {
      const partition = this.partitionOf(id);
      const group = groups.get(partition);
      if (group) group.push(position);
      else groups.set(partition, [position]);
    });
    return groups;
  }
  /** The partition that holds the mission. */
  of(missionId: string): PartitionKeys {
    return this.partitions[this.partitionOf(missionId)];
  }
  mission(id: string): string {
    return this.of(id).mission(id);
  }
  missionEvents(id: string): string {
    return this.of(id).missionEvents(id);
  }

  get agents(): string {
    return `${this.agentBase}agents`;
  }
  get agentVersions(): string {
    return `${this.agentBase}agents:version`;
  }
  get agentQuality(): string {
    return `${this.agentBase}agents:quality`;
  }
  /** One agent's events: profile changes and, with each verdict, its credit changes. */
  agentLog(agentId: string): string {
    return `${this.agentBase}agent:${agentId}:log`;
  }
  get agentLoad(): string {
    return `${this.agentBase}agents:load`;
  }
  get agentCapacity(): string {
    return `${this.agentBase}agents:capacity`;
  }
  get agentCredits(): string {
    return `${this.agentBase}agents:credits`;
  }
  /** Present while an intake does the periodic retention round, so that one intake per period does it. */
  get retentionTurn(): string {
    return `${this.prefix}retention:turn`;
  }
  /**
   * A data subject's erasure while it is pending (hash: id, actor, reason, requestedAt; no personal
   * data): written before the subject's key is destroyed, removed once each of its missions has
   * SubjectErased, so a crash in between leaves it for the sweep to finish. Hash tag `{e}`.
   */
  erasurePending(subject: string): string {
    return `${this.prefix}{e}:erasure:${subject}:pending`;
  }
  /** The subjects whose erasure is pending, by when it was requested (ms): what the erasure sweep reads. */
  get erasuresPending(): string {
    return `${this.prefix}{e}:erasures:pending`;
  }
  /** Recurring-mission schedules (schedule id -> record JSON), under their own hash tag `{s}`. */
  get schedules(): string {
    return `${this.prefix}{s}:schedules`;
  }
  get scheduleVersions(): string {
    return `${this.prefix}{s}:schedules:version`;
  }
  /** One schedule's events: created, fired, skipped, deleted. */
  scheduleLog(scheduleId: string): string {
    return `${this.prefix}{s}:schedule:${scheduleId}:log`;
  }
  /** Live schedules by their next due time (ms): what the firing sweep reads. */
  get schedulesDue(): string {
    return `${this.prefix}{s}:schedules:due`;
  }
  /** Agent slots held, by mission attempt (see AgentSlots). */
  get agentHolds(): string {
    return `${this.agentBase}agents:holds`;
  }
  /** Prefix of the markers of ended attempts (`<prefix><hold id>`), which refuse stale claims. */
  get agentHoldEndedPrefix(): string {
    return `${this.agentBase}hold-ended:`;
  }
  get agentLastAssigned(): string {
    return `${this.agentBase}agents:last-assigned`;
  }
  /**
   * Every stream of the event log, one per partition. Readers that follow it (projections) keep
   * one position per stream.
   */
  get logStreams(): readonly string[] {
    return this.partitions.map((partition) => partition.log);
  }
  /**
   * A key owned by one projection (read model `name`): its checkpoints, its state per mission, its
   * report. All projections share the hash tag `{p}`, so each applies a batch in one script.
   */
  projection(name: string, part: string): string {
    return `${this.prefix}{p}:projection:${name}:${part}`;
  }
  /** Glob that matches every key of this prefix (for cleanup and tests). */
  get pattern(): string {
    return `${this.prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
  }
}
