import { join } from 'node:path';
import Redis from 'ioredis';
import { KeyLayout } from '@app/event-store';
import { LuaScript } from '@app/redis';

const leaseScript = new LuaScript(join(__dirname, 'lua'), 'lease-ready-missions');
const returnScript = new LuaScript(join(__dirname, 'lua'), 'return-leased-missions');

export interface QueueStats {
  ready: number;
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
    const keys = [this.keys.ready, this.keys.leased, replyTo, this.keys.counters];
    return Number(await leaseScript.run(this.redis, keys, [max, now + leaseMs, this.keys.missionPrefix, requestId]));
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

  async stats(): Promise<QueueStats> {
    const [[, ready], [, leased], [, dlq], [, byStatus], [, counters]] = (await this.redis
      .multi()
      .zcard(this.keys.ready)
      .zcard(this.keys.leased)
      .zcard(this.keys.deadLetters)
      .hgetall(this.keys.statusCounts)
      .hgetall(this.keys.counters)
      .exec()) as [Error | null, unknown][];
    const statuses = Object.fromEntries(
      Object.entries(byStatus as Record<string, string>).map(([status, count]) => [status, Number(count)]),
    );
    const count = counters as Record<string, string>;
    const holding = (statuses.assigned ?? 0) + (statuses.running ?? 0) + (statuses.evaluating ?? 0);
    return {
      ready: Number(ready),
      leased: Number(leased),
      inFlight: holding + Number(leased),
      deadLettered: Number(dlq),
      byStatus: statuses,
      enqueued: Number(count.enqueued ?? 0),
      dequeued: Number(count.dequeued ?? 0),
      leaseExpired: Number(count.leaseExpired ?? 0),
    };
  }

  private async returnLeased(args: (string | number)[]): Promise<number> {
    const keys = [this.keys.ready, this.keys.leased, this.keys.stream('orchestrator'), this.keys.counters];
    return Number(await returnScript.run(this.redis, keys, args));
  }
}
