import { join } from 'node:path';
import Redis from 'ioredis';
import { KeyLayout } from '@app/event-store';
import { PRIORITY_LEVELS, PriorityLevel } from '@app/mission';
import { LuaScript } from '@app/redis';

const minuteOf = (ms: number): number => Math.floor(ms / 60_000);

const leaseScript = new LuaScript(join(__dirname, 'lua'), 'lease-ready-missions');
const returnScript = new LuaScript(join(__dirname, 'lua'), 'return-leased-missions');

export interface QueueStats {
  ready: number;
  readyByPriority: Record<PriorityLevel, number>;
  /** How long the longest-waiting ready mission has waited, ms; 0 when none is ready. */
  oldestReadyAgeMs: number;
  /** Missions enqueued and dequeued (leased) in the last full minute. */
  enqueuedPerMinute: number;
  dequeuedPerMinute: number;
  leased: number;
  inFlight: number;
  deadLettered: number;
  byStatus: Record<string, number>;
  enqueued: number;
  dequeued: number;
  leaseExpired: number;
}

/**
 * The ready queue, the leases and the dead-letter queue, owned by the intake service.
 *
 * Order: a mission's queue score is `enqueuedAt(ms) − priorityScore × headStartMsPerPoint` and the
 * lowest score is served first. So a higher priority is a head start in time: among missions
 * queued at the same moment the higher score goes first, among equal scores the earlier one, and
 * a waiting mission can be overtaken only by missions whose head start exceeds its wait — no
 * mission starves, and nothing is ever rescored (O(log n) per move).
 */
export class ReadyQueue {
  constructor(
    private readonly redis: Redis,
    private readonly keys: KeyLayout,
    private readonly headStartMsPerPoint: number,
  ) {}

  score(priorityScore: number, enqueuedAt: number): number {
    return enqueuedAt - Math.round(priorityScore * this.headStartMsPerPoint);
  }

  /**
   * Leases up to `max` missions; they arrive as one `missions.leased` message on `replyTo` (the
   * orchestrators' stream unless a caller names another stream of the same hash tag).
   */
  async lease(max: number, leaseMs: number, requestId: string, now = Date.now(), replyTo = this.keys.stream('orchestrator')): Promise<number> {
    const keys = [this.keys.ready, this.keys.leased, replyTo, this.keys.counters, this.keys.readySince, this.keys.readyByLevel, this.keys.perMinute];
    const args = [max, now + leaseMs, this.keys.missionPrefix, requestId, `d:${minuteOf(now)}`];
    return Number(await leaseScript.run(this.redis, keys, args));
  }

  /** Returns missions whose lease ran out to the ready queue. */
  async expireLeases(now = Date.now(), limit = 1_000): Promise<number> {
    return this.returnLeased(['expired', now, this.keys.missionPrefix, limit]);
  }

  /** Takes back missions the orchestrator could not place right now. */
  async release(missionIds: readonly string[], now = Date.now()): Promise<number> {
    if (missionIds.length === 0) return 0;
    return this.returnLeased(['released', now, this.keys.missionPrefix, missionIds.length, ...missionIds]);
  }

  async readyIds(): Promise<string[]> {
    return this.redis.zrange(this.keys.ready, 0, -1);
  }

  async stats(now = Date.now()): Promise<QueueStats> {
    const lastMinute = minuteOf(now) - 1;
    const [[, ready], [, leased], [, dlq], [, byStatus], [, counters], [, oldest], [, byLevel], [, perMinute]] = (await this.redis
      .multi()
      .zcard(this.keys.ready)
      .zcard(this.keys.leased)
      .zcard(this.keys.deadLetters)
      .hgetall(this.keys.statusCounts)
      .hgetall(this.keys.counters)
      .zrange(this.keys.readySince, 0, 0, 'WITHSCORES')
      .hgetall(this.keys.readyByLevel)
      .hmget(this.keys.perMinute, `e:${lastMinute}`, `d:${lastMinute}`)
      .exec()) as [Error | null, unknown][];
    await this.forgetOldMinutes(lastMinute);
    const levels = byLevel as Record<string, string>;
    const [enqueuedLastMinute, dequeuedLastMinute] = perMinute as (string | null)[];
    const oldestAt = (oldest as string[])[1];
    const statuses = Object.fromEntries(
      Object.entries(byStatus as Record<string, string>).map(([status, count]) => [status, Number(count)]),
    );
    const count = counters as Record<string, string>;
    const holding = (statuses.assigned ?? 0) + (statuses.running ?? 0) + (statuses.evaluating ?? 0);
    return {
      ready: Number(ready),
      readyByPriority: Object.fromEntries(PRIORITY_LEVELS.map((level) => [level, Number(levels[level] ?? 0)])) as Record<PriorityLevel, number>,
      oldestReadyAgeMs: oldestAt === undefined ? 0 : Math.max(0, now - Number(oldestAt)),
      enqueuedPerMinute: Number(enqueuedLastMinute ?? 0),
      dequeuedPerMinute: Number(dequeuedLastMinute ?? 0),
      leased: Number(leased),
      inFlight: holding + Number(leased),
      deadLettered: Number(dlq),
      byStatus: statuses,
      enqueued: Number(count.enqueued ?? 0),
      dequeued: Number(count.dequeued ?? 0),
      leaseExpired: Number(count.leaseExpired ?? 0),
    };
  }

  /** The per-minute hash keeps the last hour; older fields are dropped when stats are read. */
  private async forgetOldMinutes(lastMinute: number): Promise<void> {
    const fields = await this.redis.hkeys(this.keys.perMinute);
    const old = fields.filter((field) => Number(field.slice(2)) < lastMinute - 60);
    if (old.length > 0) await this.redis.hdel(this.keys.perMinute, ...old);
  }

  private async returnLeased(args: (string | number)[]): Promise<number> {
    const keys = [this.keys.ready, this.keys.leased, this.keys.stream('orchestrator'), this.keys.counters, this.keys.readySince, this.keys.readyByLevel];
    return Number(await returnScript.run(this.redis, keys, args));
  }
}
