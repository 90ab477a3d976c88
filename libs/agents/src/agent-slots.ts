import { join } from 'node:path';
import { KeyLayout } from '@app/event-store';
import { LuaScript, RedisConnection } from '@app/redis';
import { AgentEvent } from './agent-events';

const claimScript = new LuaScript(join(__dirname, 'lua'), 'claim-agent-slots');
const releaseScript = new LuaScript(join(__dirname, 'lua'), 'release-agent-slot');

/**
 * Rolling quality is an exponential moving average of verdict scores: each new score weighs 0.2,
 * so roughly the last ten missions count.
 */
export const QUALITY_WEIGHT = 0.2;

/** One agent slot held for one attempt of one mission. */
export interface SlotHold {
  agentId: string;
  missionId: string;
  attempt: number;
}

/** A hold as stored: with the time it was (last) claimed. */
export interface StoredHold extends SlotHold {
  at: number;
  /** The stored JSON, which fences a release against a claim made since it was read. */
  raw: string;
}

export enum ClaimCode {
  Claimed = 0,
  AlreadyHeld = 1,
  AgentFull = 2,
}

export enum ReleaseCode {
  Released = 0,
  NotHeld = 1,
}

/** What an evaluation verdict does to the agent that did the attempt. */
export interface AgentCredit {
  delta: number;
  score: number;
  passed: boolean;
  /** Who gave the verdict, for the agent's event. */
  actor: string;
}

export function holdId(hold: SlotHold): string {
  return `${hold.missionId}:${hold.attempt}:${hold.agentId}`;
}

/**
 * The agents' slots, kept apart from the missions (their own hash slot in a Redis Cluster): the
 * orchestrator claims a slot before it appends the assignment, and gives it back when it cannot;
 * the end of an attempt releases it through a message written with the mission's event. A hold
 * whose assignment never got appended (the orchestrator died in between) is an orphan that
 * `OrphanHoldReaper` gives back.
 */
export class AgentSlots {
  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: KeyLayout,
  ) {}

  /** Claims all `holds` in one round trip; one code per hold, in order. */
  async claim(holds: readonly SlotHold[], now = Date.now()): Promise<ClaimCode[]> {
    if (holds.length === 0) return [];
    const k = this.keys;
    const args: (string | number)[] = [now];
    for (const hold of holds) args.push(holdId(hold), JSON.stringify({ ...hold, at: now }));
    return (await claimScript.run(this.redis, [k.agentLoad, k.agentCapacity, k.agentHolds, k.agentLastAssigned], args)) as ClaimCode[];
  }

  /**
   * Gives the slot back, with the verdict's credit when there is one. `seen` fences the release
   * to the hold as it was read (the orphan reaper's case).
   */
  async release(hold: SlotHold, credit?: AgentCredit, seen?: StoredHold): Promise<ReleaseCode> {
    const k = this.keys;
    const keys = [k.agentLoad, k.agentHolds, k.agentCredits, k.agentQuality, k.agentLog(hold.agentId)];
    const args: (string | number)[] = [holdId(hold), hold.agentId, seen?.raw ?? ''];
    if (credit) {
      const event: AgentEvent = {
        type: 'AgentCreditsChanged',
        agentId: hold.agentId,
        at: new Date().toISOString(),
        actor: credit.actor,
        data: { delta: credit.delta, missionId: hold.missionId, attempt: hold.attempt, score: credit.score, passed: credit.passed },
      };
      args.push(credit.delta, credit.score, QUALITY_WEIGHT, JSON.stringify(event));
    } else {
      args.push('', '', '', '');
    }
    return (await releaseScript.run(this.redis, keys, args)) as ReleaseCode;
  }

  async holds(): Promise<StoredHold[]> {
    const flat = await this.redis.hgetall(this.keys.agentHolds);
    return Object.values(flat).map((raw) => ({ ...(JSON.parse(raw) as SlotHold & { at: number }), raw }));
  }
}
