import { join } from 'node:path';
import {
  KeyLayout,
  missionLuaOptions,
  PartitionKeys,
  PER_MINUTE_KEPT_MINUTES,
  readStoredMission,
  UnreadableStoredDataError,
  wrongTypeError,
} from '@app/event-store';
import { MESSAGE_ROUTES, MessagePayloads } from '@app/messages';
import { Mission, PRIORITY_LEVELS, PriorityLevel, QueueStats } from '@app/mission';
import { LuaScript, RedisConnection } from '@app/redis';
import { QueuedMission, queueKey, QueueOrderOptions } from './queue-order';

const minuteOf = (ms: number): number => Math.floor(ms / 60_000);

/** The message that tells the orchestrators missions are ready again, to the service its route names. */
const READY_PATTERN = 'queue.ready' satisfies keyof MessagePayloads;
/** The field of its payload that counts the missions returned (return-leased-missions-8.lua writes it). */
const READY_RETURNED_FIELD = 'returned' satisfies keyof MessagePayloads[typeof READY_PATTERN];

/**
 * Ready missions whose hash cannot say how they are counted that one lease passes over at most:
 * it reads no further, so every look does not read past all of them (the missions behind more of
 * them wait until they are mended; see lease-ready-missions-8.lua).
 */
export const MAX_PASSED_OVER_PER_LEASE = 500;

const leaseScript = new LuaScript(join(__dirname, 'lua'), 'lease-ready-missions-8', missionLuaOptions({ LEASE: { maxPassedOver: MAX_PASSED_OVER_PER_LEASE } }));
const returnScript = new LuaScript(join(__dirname, 'lua'), 'return-leased-missions-8', missionLuaOptions());

/** Missions enqueued and dequeued in one minute (`minute`: its start). */
export interface MinuteThroughput {
  minute: string;
  enqueued: number;
  dequeued: number;
}

/** An agent with room, as a lease request names it: its free slots and its skills. */
export interface FreeAgent {
  free: number;
  skills: readonly string[];
}

/** A leased mission with its ready score, by which the leases of several partitions merge (lowest first). */
export interface LeasedMission {
  mission: Mission;
  readyScore: number;
}

/** Told of a mission whose stored data cannot be read (changed by hand), which the call passes over. */
export type OnUnreadable = (error: UnreadableStoredDataError) => void;

/**
 * Told of a mission that left its lease but was not queued again, its hash changed by hand, and,
 * for a log line after the error's message, `staysOut`: `so it stays out of the ready queue until
 * it is mended (…)`, naming the mend for what its hash lacks.
 */
export type OnLeftOut = (error: UnreadableStoredDataError, staysOut: string) => void;

/**
 * Why a lease passes over a ready mission, or its return leaves it out of the ready queue: its hash
 * no longer says where the queue counts it (uncountable in ready-membership.lua, which names the
 * same three), with what it reads as and what mends it.
 */
const UNCOUNTABLE = {
  'wrong-type': {
    error: (missionId: string, key: string) => wrongTypeError(missionId, key, 'hash'),
    mend: 'replay verify names it: delete the key, then run replay rebuild',
  },
  'no-read-model': {
    error: (missionId: string, key: string) =>
      new UnreadableStoredDataError(missionId, `it has no read model (its key ${key} holds no state nor queue fields)`),
    mend: 'replay verify names it: run replay rebuild, which writes it again and queues it',
  },
  'no-queue-fields': {
    error: (missionId: string, key: string) =>
      new UnreadableStoredDataError(missionId, `its hash ${key} has no queue fields (rs, ea, pl, sk), which replay rebuild writes again`),
    mend: 'run replay rebuild, which queues it again',
  },
} as const;
type Uncountable = keyof typeof UNCOUNTABLE;

export interface LeaseOptions {
  /** A test's clock (ms) in place of Redis's, which sets every lease deadline otherwise. */
  now?: number;
  freeAgents?: readonly FreeAgent[];
  /**
   * Told of each mission leased whose state cannot be read (changed by hand): it is not returned,
   * and stays leased until its lease runs out, so the missions leased with it are placed. Told
   * too of each ready mission passed over because its hash no longer says how it is counted (of
   * another Redis type, deleted, or without its queue fields): that one stays ready and counted,
   * takes no place in the lease, and is passed over by every lease until it is mended (`replay
   * rebuild`, after a `DEL` of a key of another type). A lease passes over at most
   * MAX_PASSED_OVER_PER_LEASE of them.
   */
  onUnreadable?: OnUnreadable;
}

export interface ReturnOptions {
  /**
   * Told of each mission whose hash no longer says where it was queued (of another Redis type,
   * deleted, or without its queue fields): it leaves its lease but is not queued again, since
   * what it was queued by went with its hash, and no later run meets it again; `replay rebuild`
   * queues it again.
   */
  onUnreadable?: OnLeftOut;
}

interface PartitionStats {
  ready: number;
  leased: number;
  deadLettered: number;
  scheduled: number;
  backoff: number;
  overdue: number;
  overdueDeadLettered: number;
  byStatus: Record<string, string>;
  counters: Record<string, string>;
  oldestAt: number | null;
  byLevel: Record<string, string>;
  enqueuedLastMinute: number;
  dequeuedLastMinute: number;
  awaitingReview: number;
  reviewDeadlines: number;
  oldestReviewAt: number | null;
}

/**
 * The ready queue, the leases and the dead-letter queue, owned by the intake service.
 *
 * Order: lowest key first, the key fixed when the mission is queued (queueKey in queue-order.ts:
 * priority as a head start in time, a deadline as an earlier start, safety issues as a tier ahead
 * of the rest). Nothing is ever rescored (O(log n) per move). Each log partition has its own queue
 * (its keys share the partition's hash slot); the orchestrator leases from all of them.
 */
export class ReadyQueue {
  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: KeyLayout,
    private readonly order: QueueOrderOptions,
  ) {}

  /** The mission's key when queued at `enqueuedAt` (ms). */
  score(mission: QueuedMission, enqueuedAt: number): number {
    return queueKey(mission, enqueuedAt, this.order);
  }

  /**
   * Leases up to `max` missions of one log partition to the lease `leaseId` until `leaseMs` from
   * now by Redis's clock (the one the assignment's lease check and the expiry read, so the hosts'
   * clocks need not agree), and returns their states with their ready scores, best first. With
   * `freeAgents`, only missions one of them can take are leased, at most one per free slot (see
   * lease-ready-missions-8.lua).
   */
  async lease(partition: number, max: number, leaseMs: number, leaseId: string, options: LeaseOptions = {}): Promise<LeasedMission[]> {
    const k = this.keys.partitions[partition];
    const keys = [k.ready, k.leased, k.counters, k.readySince, k.readyByLevel, k.perMinute, k.readyBySkills, k.leaseOwners];
    const agents = options.freeAgents ?? [];
    const perMinute = `d:${minuteOf(options.now ?? Date.now())}`;
    const args: (string | number)[] = [max, leaseMs, k.missionPrefix, leaseId, perMinute, agents.length, k.readyWithSkillsPrefix, options.now ?? ''];
    for (const agent of agents) args.push(agent.free, agent.skills.length, ...agent.skills);
    const [rows, passedOver] = (await leaseScript.run(this.redis, keys, args)) as [(string | null)[], string[]];
    const leased: LeasedMission[] = [];
    for (let i = 0; i < rows.length; i += 3) {
      const missionId = rows[i] ?? '';
      const mission = leasedState(missionId, rows[i + 1]);
      // Left leased: passed back at once it would be leased again at once; its lease runs out after LEASE_MS.
      if (mission instanceof UnreadableStoredDataError) options.onUnreadable?.(mission);
      else leased.push({ mission, readyScore: Number(rows[i + 2]) });
    }
    tellUncountable(k, passedOver, (error) => options.onUnreadable?.(error));
    return leased;
  }

  /**
   * Returns missions whose lease ran out by Redis's clock (`now`: a test's clock instead) to the
   * ready queue, in every partition, at most `limit` per partition.
   */
  async expireLeases(now?: number, options: ReturnOptions & { limit?: number } = {}): Promise<number> {
    const limit = options.limit ?? 1_000;
    const returned = await Promise.all(
      this.keys.partitions.map((k) =>
        this.returnLeased(k, ['expired', now ?? '', k.missionPrefix, limit, k.readyWithSkillsPrefix, '', READY_PATTERN, READY_RETURNED_FIELD], options),
      ),
    );
    return returned.reduce((sum, n) => sum + n, 0);
  }

  /**
   * Takes back missions the orchestrator could not place right now; with `leaseId`, only those
   * still leased to that lease. `announce: false` writes no ready-work message: the orchestrator
   * handing them back knows already, and its own next look (a release, a nudge, its idle poke)
   * takes them, instead of a message that would send it straight back to the same missions.
   */
  async release(missionIds: readonly string[], leaseId = '', options: ReturnOptions & { now?: number; announce?: boolean } = {}): Promise<number> {
    const now = options.now ?? '';
    const pattern = options.announce === false ? '' : READY_PATTERN;
    const returned = await Promise.all(
      [...this.keys.groupByPartition(missionIds)].map(([partition, positions]) => {
        const k = this.keys.partitions[partition];
        const ids = positions.map((position) => missionIds[position]);
        return this.returnLeased(
          k,
          ['released', now, k.missionPrefix, ids.length, k.readyWithSkillsPrefix, leaseId, pattern, READY_RETURNED_FIELD, ...ids],
          options,
        );
      }),
    );
    return returned.reduce((sum, n) => sum + n, 0);
  }

  /** Ready missions, best first within each partition. */
  async readyIds(): Promise<string[]> {
    return (await Promise.all(this.keys.partitions.map((k) => this.redis.zrange(k.ready, 0, -1)))).flat();
  }

  /** The queue across every partition. */
  async stats(now = Date.now()): Promise<QueueStats> {
    const lastMinute = minuteOf(now) - 1;
    const parts = await Promise.all(this.keys.partitions.map((k) => this.partitionStats(k, lastMinute)));
    const sum = (pick: (part: PartitionStats) => number) => parts.reduce((total, part) => total + pick(part), 0);
    const statuses: Record<string, number> = {};
    for (const part of parts) {
      for (const [status, count] of Object.entries(part.byStatus)) statuses[status] = (statuses[status] ?? 0) + Number(count);
    }
    const oldest = parts.map((part) => part.oldestAt).filter((at): at is number => at !== null);
    const oldestReview = parts.map((part) => part.oldestReviewAt).filter((at): at is number => at !== null);
    const holding = (statuses.assigned ?? 0) + (statuses.running ?? 0) + (statuses.evaluating ?? 0);
    const leased = sum((part) => part.leased);
    const counter = (name: string) => sum((part) => Number(part.counters[name] ?? 0));
    return {
      ready: sum((part) => part.ready),
      readyByPriority: Object.fromEntries(PRIORITY_LEVELS.map((level) => [level, sum((part) => Number(part.byLevel[level] ?? 0))])) as Record<
        PriorityLevel,
        number
      >,
      oldestReadyAgeMs: oldest.length === 0 ? 0 : Math.max(0, now - Math.min(...oldest)),
      enqueuedPerMinute: sum((part) => part.enqueuedLastMinute),
      dequeuedPerMinute: sum((part) => part.dequeuedLastMinute),
      leased,
      inFlight: holding + leased,
      deadLettered: sum((part) => part.deadLettered),
      byStatus: statuses,
      enqueued: counter('enqueued'),
      dequeued: counter('dequeued'),
      leaseExpired: counter('leaseExpired'),
      scheduled: sum((part) => part.scheduled),
      backoff: sum((part) => part.backoff),
      awaitingReview: sum((part) => part.awaitingReview),
      // A review leaves the watched deadlines when it is found overdue, and stays in the inbox.
      reviewsOverdue: sum((part) => part.awaitingReview - part.reviewDeadlines),
      oldestReviewAgeMs: oldestReview.length === 0 ? 0 : Math.max(0, now - Math.min(...oldestReview)),
      overdue: sum((part) => part.overdue),
      overdueDeadLettered: sum((part) => part.overdueDeadLettered),
      overdueRecorded: counter('overdue'),
    };
  }

  /**
   * Missions enqueued and dequeued in each of the last `minutes` full minutes (at most the hour the
   * per-minute counts are kept), oldest first, summed over the partitions: the throughput chart.
   */
  async throughput(minutes: number, now = Date.now()): Promise<MinuteThroughput[]> {
    const last = minuteOf(now) - 1;
    const span = Array.from({ length: Math.min(Math.max(minutes, 1), PER_MINUTE_KEPT_MINUTES) }, (_, i) => last - i).reverse();
    const fields = span.flatMap((minute) => [`e:${minute}`, `d:${minute}`]);
    const parts = await Promise.all(this.keys.partitions.map((k) => this.redis.hmget(k.perMinute, ...fields)));
    return span.map((minute, i) => ({
      minute: new Date(minute * 60_000).toISOString(),
      enqueued: parts.reduce((sum, counts) => sum + Number(counts[2 * i] ?? 0), 0),
      dequeued: parts.reduce((sum, counts) => sum + Number(counts[2 * i + 1] ?? 0), 0),
    }));
  }

  /** One partition's figures, read atomically (its keys share a hash slot). */
  private async partitionStats(k: PartitionKeys, lastMinute: number): Promise<PartitionStats> {
    const [
      [, ready],
      [, leased],
      [, dlq],
      [, scheduled],
      [, backoff],
      [, overdue],
      [, overdueDeadLettered],
      [, byStatus],
      [, counters],
      [, oldest],
      [, byLevel],
      [, perMinute],
      [, reviews],
      [, deadlines],
      [, oldestReview],
    ] = (await this.redis
      .multi()
      .zcard(k.ready)
      .zcard(k.leased)
      .zcard(k.deadLetters)
      .zcard(k.scheduled('delayed'))
      .zcard(k.scheduled('retry'))
      .zcard(k.overdue)
      .zintercard(2, k.overdue, k.deadLetters)
      .hgetall(k.statusCounts)
      .hgetall(k.counters)
      .zrange(k.readySince, 0, 0, 'WITHSCORES')
      .hgetall(k.readyByLevel)
      .hmget(k.perMinute, `e:${lastMinute}`, `d:${lastMinute}`)
      .zcard(k.awaitingReview)
      .zcard(k.reviewDeadlines)
      .zrange(k.awaitingReview, 0, 0, 'WITHSCORES')
      .exec()) as [Error | null, unknown][];
    const [enqueuedLastMinute, dequeuedLastMinute] = perMinute as (string | null)[];
    const oldestAt = (oldest as string[])[1];
    const oldestReviewAt = (oldestReview as string[])[1];
    return {
      ready: Number(ready),
      leased: Number(leased),
      deadLettered: Number(dlq),
      scheduled: Number(scheduled),
      backoff: Number(backoff),
      overdue: Number(overdue),
      overdueDeadLettered: Number(overdueDeadLettered),
      byStatus: byStatus as Record<string, string>,
      counters: counters as Record<string, string>,
      oldestAt: oldestAt === undefined ? null : Number(oldestAt),
      byLevel: byLevel as Record<string, string>,
      enqueuedLastMinute: Number(enqueuedLastMinute ?? 0),
      dequeuedLastMinute: Number(dequeuedLastMinute ?? 0),
      awaitingReview: Number(reviews),
      reviewDeadlines: Number(deadlines),
      oldestReviewAt: oldestReviewAt === undefined ? null : Number(oldestReviewAt),
    };
  }

  private async returnLeased(k: PartitionKeys, args: (string | number)[], options: ReturnOptions): Promise<number> {
    const keys = [k.ready, k.leased, k.stream(MESSAGE_ROUTES[READY_PATTERN]), k.counters, k.readySince, k.readyByLevel, k.readyBySkills, k.leaseOwners];
    const [returned, leftOut] = (await returnScript.run(this.redis, keys, args)) as [number, string[]];
    tellUncountable(k, leftOut, (error, mend) => options.onUnreadable?.(error, `so it stays out of the ready queue until it is mended (${mend})`));
    return returned;
  }
}

/** Tells `tell` of each mission a script passed over, `named` its id and why, flat (uncountable in ready-membership.lua). */
function tellUncountable(k: PartitionKeys, named: readonly string[], tell: (error: UnreadableStoredDataError, mend: string) => void): void {
  for (let i = 0; i < named.length; i += 2) {
    const { error, mend } = UNCOUNTABLE[named[i + 1] as Uncountable];
    tell(error(named[i], k.mission(named[i])), mend);
  }
}

/** A leased mission's state, or why it cannot be read (none: its hash lost its `s`). */
function leasedState(missionId: string, json: string | null | undefined): Mission | UnreadableStoredDataError {
  return json ? readStoredMission(missionId, json) : new UnreadableStoredDataError(missionId, 'it has no state in the read model (s)');
}
