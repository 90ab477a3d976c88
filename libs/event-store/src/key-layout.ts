export type ServiceName = 'intake' | 'orchestrator' | 'executor' | 'evaluator';

/**
 * Every Redis key the system uses. All keys share one hash tag, so every Lua script touches a
 * single Redis Cluster slot; `KEY_PREFIX` keeps deployments (and test runs) apart.
 */
export class KeyLayout {
  private readonly base: string;

  constructor(readonly prefix: string) {
    this.base = `${prefix}{m}:`;
  }

  /** The append-only event log of all missions. */
  get log(): string {
    return `${this.base}log`;
  }
  /**
   * Every stream of the event log. One today; when the log is partitioned, readers that follow it
   * (projections) keep one position per stream, so they need no change.
   */
  get logStreams(): readonly string[] {
    return [this.log];
  }
  /** A key owned by one projection (read model `name`): its checkpoint, its state per mission, its report. */
  projection(name: string, part: string): string {
    return `${this.base}projection:${name}:${part}`;
  }
  /** SHA-1 of the last event in the log: the head of the log's hash chain. */
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
  /** Missions enqueued (e:<minute>) and dequeued (d:<minute>) per minute since the epoch. */
  get perMinute(): string {
    return `${this.base}stats:per-minute`;
  }
  get leased(): string {
    return `${this.base}queue:leased`;
  }
  get deadLetters(): string {
    return `${this.base}queue:dlq`;
  }
  get agents(): string {
    return `${this.base}agents`;
  }
  get agentVersions(): string {
    return `${this.base}agents:version`;
  }
  get agentQuality(): string {
    return `${this.base}agents:quality`;
  }
  /** One agent's events: profile changes and, with each verdict, its credit changes. */
  agentLog(agentId: string): string {
    return `${this.base}agent:${agentId}:log`;
  }
  get agentLoad(): string {
    return `${this.base}agents:load`;
  }
  get agentCapacity(): string {
    return `${this.base}agents:capacity`;
  }
  get agentCredits(): string {
    return `${this.base}agents:credits`;
  }
  get agentLastAssigned(): string {
    return `${this.base}agents:last-assigned`;
  }
  stream(service: ServiceName): string {
    return `${this.base}stream:${service}`;
  }
  /** Invalid `mission.submit` commands, with the reason, for the sending team to look at. */
  get rejectedSubmissions(): string {
    return `${this.base}stream:intake:rejected`;
  }
  poison(service: ServiceName): string {
    return `${this.base}stream:${service}:poison`;
  }
  /** Glob that matches every key of this prefix (for cleanup and tests). */
  get pattern(): string {
    return `${this.prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
  }
}
