import { join } from 'node:path';
import { KeyLayout } from '@app/event-store';
import { SERVICE_ACTORS } from '@app/mission';
import { execAll, LuaScript, luaEnum, RedisConnection } from '@app/redis';
import { AgentProfile, AgentSnapshot, AgentStatus } from './agent';
import { AgentChanges, AgentEvent, AgentNotFoundError, AgentRecord, evolveAgent } from './agent-events';
import { AgentView } from './agent-view';

/** Result codes of append-agent-events-6.lua. */
enum AgentAppendCode {
  Ok = 0,
  VersionConflict = 1,
}

const appendScript = new LuaScript(join(__dirname, 'lua'), 'append-agent-events-6', { constants: { CODE: luaEnum(AgentAppendCode) } });

export class AgentVersionConflictError extends Error {
  /** `registered`: a registration met an agent of that id (a retry would meet it again). */
  constructor(
    readonly agentId: string,
    registered = false,
  ) {
    super(
      registered
        ? `agent ${agentId} exists already; register it under another id, or change it with PATCH`
        : `agent ${agentId} was changed concurrently; reload and retry`,
    );
    this.name = 'AgentVersionConflictError';
  }
}

/**
 * Agents as event-sourced records: each agent has its own event stream; the record (profile and
 * status), capacity, load, credits and quality are hashes keyed by agent id. Slots and credits
 * move through AgentSlots.
 */
export class AgentRegistry {
  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: KeyLayout,
  ) {}

  /**
   * Registers the seed agents the registry lacks, unless it holds an agent the seed does not name
   * (then its agents are someone's own choice, and none is added). So a seeding cut short (a
   * crash, Redis gone) is finished at the next start instead of leaving the system with part of
   * its capacity and skills for good. The agents are registered in one MULTI (their keys share
   * the `{a}` hash tag), so no reader sees part of the seed: the intake, which refuses a mission
   * whose skills no registered agent has, would refuse creates for as long as the seeding of a
   * registry lost with Redis's data took, one agent after another. An agent registered meanwhile
   * by another instance counts as there; any other failure is thrown, not passed over. Returns
   * how many were added.
   */
  async seedMissing(profiles: readonly AgentProfile[], actor: string = SERVICE_ACTORS.seed): Promise<number> {
    const registered = new Set(await this.redis.hkeys(this.keys.agents));
    const seeded = new Set(profiles.map((profile) => profile.id));
    if ([...registered].some((agentId) => !seeded.has(agentId))) return 0;
    const missing = profiles.filter((profile) => !registered.has(profile.id));
    if (missing.length === 0) return 0;
    const transaction = this.redis.multi();
    for (const profile of missing) {
      const { keys, args } = this.appendCall(null, [registeredEvent(profile, actor)], String(profile.credits));
      appendScript.addTo(transaction, keys, args);
    }
    const replies = (await execAll(transaction)) as [AgentAppendCode, string][];
    return replies.filter(([code]) => code === AgentAppendCode.Ok).length;
  }

  async register(profile: AgentProfile, actor: string): Promise<AgentRecord> {
    return this.append(null, [registeredEvent(profile, actor)], String(profile.credits));
  }

  /**
   * Changes an agent's profile fields and/or status: an AgentUpdated and an AgentStatusChanged
   * event, appended together at the version read, so a conflict leaves neither behind. A status
   * the agent already has, or a field set to the value it has, adds nothing to an event (a form
   * saved unchanged records no change); nothing to change returns the record as it is.
   */
  async change(agentId: string, change: { fields?: AgentChanges; status?: { status: AgentStatus; reason: string } }, actor: string): Promise<AgentRecord> {
    const record = await this.requireRecord(agentId);
    const at = new Date().toISOString();
    const events: AgentEvent[] = [];
    const fields = Object.fromEntries(
      Object.entries(change.fields ?? {}).filter(([field, value]) => JSON.stringify(value) !== JSON.stringify(record[field as keyof AgentChanges])),
    ) as AgentChanges;
    if (Object.keys(fields).length > 0) events.push({ type: 'AgentUpdated', agentId, at, actor, data: fields });
    if (change.status && change.status.status !== record.status) events.push({ type: 'AgentStatusChanged', agentId, at, actor, data: change.status });
    return events.length === 0 ? record : this.append(record, events);
  }

  async record(agentId: string): Promise<AgentRecord | null> {
    const json = await this.redis.hget(this.keys.agents, agentId);
    // Records stored before statusChange and updatedBy were kept read as not known.
    return json ? ({ statusChange: null, updatedBy: null, ...(JSON.parse(json) as Partial<AgentRecord>) } as AgentRecord) : null;
  }

  async view(agentId: string): Promise<AgentView | null> {
    const record = await this.record(agentId);
    if (!record) return null;
    const [[, load], [, credits], [, quality], [, recent]] = (await this.redis
      .multi()
      .hget(this.keys.agentLoad, agentId)
      .hget(this.keys.agentCredits, agentId)
      .hget(this.keys.agentQuality, agentId)
      .xrevrange(this.keys.agentLog(agentId), '+', '-', 'COUNT', 50)
      .exec()) as [Error | null, unknown][];
    const recentMissions = (recent as [string, string[]][])
      .map(([, fields]) => JSON.parse(fields[1]) as AgentEvent)
      .flatMap((event) => (event.type === 'AgentCreditsChanged' ? [{ ...pickVerdict(event.data), at: event.at }] : []))
      .slice(0, 10);
    return {
      ...record,
      load: Number(load ?? 0),
      credits: Number(credits ?? record.initialCredits),
      quality: quality === null ? null : Number(quality),
      recentMissions,
    };
  }

  async list(): Promise<AgentView[]> {
    const ids = (await this.redis.hkeys(this.keys.agents)).sort();
    const views = await Promise.all(ids.map((id) => this.view(id)));
    return views.filter((view): view is AgentView => view !== null);
  }

  /** Each registered agent's skills, whatever its status (a paused agent comes back). */
  async skillSets(): Promise<string[][]> {
    const records = await this.redis.hvals(this.keys.agents);
    return records.map((json) => (JSON.parse(json) as AgentRecord).skills);
  }

  async snapshot(): Promise<AgentSnapshot[]> {
    const replies = (await execAll(
      this.redis
        .multi()
        .hgetall(this.keys.agents)
        .hgetall(this.keys.agentCapacity)
        .hgetall(this.keys.agentLoad)
        .hgetall(this.keys.agentCredits)
        .hgetall(this.keys.agentLastAssigned)
        .hgetall(this.keys.agentQuality),
    )) as Record<string, string>[];
    const [records, capacity, load, credits, lastAssigned, quality] = replies;
    return Object.entries(records).map(([id, json]) => {
      const record = JSON.parse(json) as AgentRecord;
      return {
        id,
        skills: record.skills,
        status: record.status,
        capacity: Number(capacity[id] ?? record.capacity),
        load: Number(load[id] ?? 0),
        credits: Number(credits[id] ?? record.initialCredits),
        quality: quality[id] === undefined ? null : Number(quality[id]),
        lastAssignedAt: Number(lastAssigned[id] ?? 0),
      };
    });
  }

  private async requireRecord(agentId: string): Promise<AgentRecord> {
    const record = await this.record(agentId);
    if (!record) throw new AgentNotFoundError(agentId);
    return record;
  }

  private async append(record: AgentRecord | null, events: AgentEvent[], startingCredits = ''): Promise<AgentRecord> {
    const { keys, args, next } = this.appendCall(record, events, startingCredits);
    const [code] = (await appendScript.run(this.redis, keys, args)) as [AgentAppendCode, string];
    if (code !== AgentAppendCode.Ok) throw new AgentVersionConflictError(next.id, record === null);
    return next;
  }

  /** The append script's keys and arguments for events of one agent at the version of `record`, and the record after them. */
  private appendCall(
    record: AgentRecord | null,
    events: AgentEvent[],
    startingCredits: string,
  ): { keys: string[]; args: (string | number)[]; next: AgentRecord } {
    const agentId = events[0].agentId;
    const next = events.reduce<AgentRecord | null>(evolveAgent, record);
    if (!next) throw new AgentNotFoundError(agentId);
    const keys = [this.keys.agents, this.keys.agentVersions, this.keys.agentLog(agentId), this.keys.agentCapacity, this.keys.agentCredits, this.keys.agentLoad];
    const args = [agentId, record?.version ?? 0, JSON.stringify(next), next.capacity, startingCredits, ...events.map((event) => JSON.stringify(event))];
    return { keys, args, next };
  }
}

function registeredEvent(profile: AgentProfile, actor: string): AgentEvent {
  return { type: 'AgentRegistered', agentId: profile.id, at: new Date().toISOString(), actor, data: profile };
}

function pickVerdict(data: { missionId: string; attempt: number; score: number; passed: boolean }) {
  return { missionId: data.missionId, attempt: data.attempt, score: data.score, passed: data.passed };
}
