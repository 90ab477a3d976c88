import Redis from 'ioredis';
import { KeyLayout } from '@app/event-store';
import { AgentProfile, AgentSnapshot } from './agent';

/**
 * Agents and their live figures in Redis: profiles (JSON), capacity, load, credits and last
 * assignment time, each a hash keyed by agent id. Load and capacity sit beside the missions
 * (same hash tag), so an assignment claims a slot in the same atomic step as its event.
 */
export class AgentRegistry {
  constructor(
    private readonly redis: Redis,
    private readonly keys: KeyLayout,
  ) {}

  /** Registers the given agents when the registry is empty; returns how many were added. */
  async seedIfEmpty(profiles: readonly AgentProfile[]): Promise<number> {
    if ((await this.redis.hlen(this.keys.agents)) > 0) return 0;
    const multi = this.redis.multi();
    for (const profile of profiles) {
      multi.hsetnx(this.keys.agents, profile.id, JSON.stringify({ status: 'online', ...profile }));
      multi.hsetnx(this.keys.agentCapacity, profile.id, profile.capacity);
      multi.hsetnx(this.keys.agentCredits, profile.id, profile.credits);
      multi.hsetnx(this.keys.agentLoad, profile.id, 0);
    }
    await multi.exec();
    return profiles.length;
  }

  async profile(agentId: string): Promise<AgentProfile | null> {
    const json = await this.redis.hget(this.keys.agents, agentId);
    return json ? (JSON.parse(json) as AgentProfile) : null;
  }

  async snapshot(): Promise<AgentSnapshot[]> {
    const replies = (await this.redis
      .multi()
      .hgetall(this.keys.agents)
      .hgetall(this.keys.agentCapacity)
      .hgetall(this.keys.agentLoad)
      .hgetall(this.keys.agentCredits)
      .hgetall(this.keys.agentLastAssigned)
      .exec()) as [Error | null, Record<string, string>][];
    const [profiles, capacity, load, credits, lastAssigned] = replies.map(([error, value]) => {
      if (error) throw error;
      return value;
    });
    return Object.entries(profiles).map(([id, json]) => {
      const profile = JSON.parse(json) as AgentProfile;
      return {
        id,
        skills: profile.skills,
        status: profile.status ?? 'online',
        capacity: Number(capacity[id] ?? profile.capacity),
        load: Number(load[id] ?? 0),
        credits: Number(credits[id] ?? profile.credits),
        lastAssignedAt: Number(lastAssigned[id] ?? 0),
      };
    });
  }
}
