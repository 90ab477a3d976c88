import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { KeyLayout } from '@app/event-store';
import { LuaScript, luaEnum, RedisConnection, redisNowMs } from '@app/redis';
import { AgentEvent } from './agent-events';

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
  /** The stored JSON, which fences a give-back against a claim made since it was read. */
  raw: string;
}

/** Result codes of claim-agent-slots-4.lua, one per claimed hold. */
export enum ClaimCode {
  Claimed = 0,
  AlreadyHeld = 1,
  AgentFull = 2,
  /** The attempt already ended on this agent (a stale lease): nothing to claim. */
  Ended = 3,
}

export interface Claim {
  code: ClaimCode;
  /** The hold as this claim wrote it ('' when it wrote none): `giveBack` removes it only while it is still this. */
  raw: string;
}

/** Result codes of release-agent-slot-5.lua. */
export enum ReleaseCode {
  Released = 0,
  NotHeld = 1,
}

const claimScript = new LuaScript(join(__dirname, 'lua'), 'claim-agent-slots-4', { constants: { CODE: luaEnum(ClaimCode) } });
const releaseScript = new LuaScript(join(__dirname, 'lua'), 'release-agent-slot-5', { constants: { CODE: luaEnum(ReleaseCode) } });
const restoreScript = new LuaScript(join(__dirname, 'lua'), 'restore-agent-holds-2');

/** What an evaluation verdict does to the agent that did the attempt. */
export interface AgentCredit {
  delta: number;
  score: number;
  passed: boolean;
  /** Who gave the verdict, for the agent's event. */
  actor: string;
}

/**
 * How long an ended attempt is remembered, to refuse stale claims of it. A stale claim comes from
 * a lease message handled late (a reclaimed message, a duplicate), which happens within minutes.
 */
const ENDED_MARKER_TTL_S = 600;

export function holdId(hold: SlotHold): string {
  return `${hold.missionId}:${hold.attempt}:${hold.agentId}`;
}

/** A hold as the claim and restore scripts take it: its id, agent, mission, attempt and a new claim id. */
function holdArgs(hold: SlotHold): (string | number)[] {
  return [holdId(hold), hold.agentId, hold.missionId, hold.attempt, randomUUID()];
}

/**
 * The agents' slots, kept apart from the missions (their own hash slot in a Redis Cluster): the
 * orchestrator claims a slot before it appends the assignment, and gives it back when the
 * assignment is not in the log; the end of an attempt frees it through a message written with the
 * mission's event. A hold whose assignment never got appended (the orchestrator died in between)
 * is an orphan that `OrphanHoldReaper` gives back.
 */
export class AgentSlots {
  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: KeyLayout,
  ) {}

  /**
   * Claims all `holds` in one round trip; one claim per hold, in order. Each hold is stamped with
   * Redis's clock (`now`: a test's clock instead), so that the reaper of any orchestrator ages it
   * by the same clock as the one that claimed it.
   */
  async claim(holds: readonly SlotHold[], now?: number): Promise<Claim[]> {
    if (holds.length === 0) return [];
    const k = this.keys;
    const args: (string | number)[] = [now ?? '', k.agentHoldEndedPrefix];
    for (const hold of holds) args.push(...holdArgs(hold));
    const reply = (await claimScript.run(this.redis, [k.agentLoad, k.agentCapacity, k.agentHolds, k.agentLastAssigned], args)) as (ClaimCode | string)[];
    return holds.map((_, i) => ({ code: reply[2 * i] as ClaimCode, raw: reply[2 * i + 1] as string }));
  }

  /**
   * Records the holds of attempts in flight that hold no slot here (an import), whatever their
   * agents' room, each stamped like a claim (restore-agent-holds-2.lua); returns how many it wrote.
   * Their attempts' ends free them as they free a claimed slot.
   */
  async restore(holds: readonly SlotHold[], now?: number): Promise<number> {
    if (holds.length === 0) return 0;
    const args: (string | number)[] = [now ?? ''];
    for (const hold of holds) args.push(...holdArgs(hold));
    return Number(await restoreScript.run(this.redis, [this.keys.agentLoad, this.keys.agentHolds], args));
  }

  /** Redis's clock (ms): the one hold times are stamped with. */
  now(): Promise<number> {
    return redisNowMs(this.redis);
  }

  /**
   * The attempt ended: its slot is freed and, with a verdict, the agent credited - once per
   * attempt, however often this is called.
   */
  async endAttempt(hold: SlotHold, credit?: AgentCredit): Promise<ReleaseCode> {
    const args: (string | number)[] = ['end', this.keys.agentHoldEndedPrefix + holdId(hold), ENDED_MARKER_TTL_S];
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
    return this.release(hold, args);
  }

  /** Gives back a slot whose assignment was not appended, unless it was claimed again since `raw` was written or read. */
  async giveBack(hold: SlotHold, raw: string): Promise<ReleaseCode> {
    return this.release(hold, ['give-back', raw, '', '', '', '', '']);
  }

  async holds(): Promise<StoredHold[]> {
    const flat = await this.redis.hgetall(this.keys.agentHolds);
    return Object.values(flat).map((raw) => ({ ...(JSON.parse(raw) as SlotHold & { at: number }), raw }));
  }

  private async release(hold: SlotHold, modeArgs: (string | number)[]): Promise<ReleaseCode> {
    const k = this.keys;
    const keys = [k.agentLoad, k.agentHolds, k.agentCredits, k.agentQuality, k.agentLog(hold.agentId)];
    return (await releaseScript.run(this.redis, keys, [holdId(hold), hold.agentId, ...modeArgs])) as ReleaseCode;
  }
}
