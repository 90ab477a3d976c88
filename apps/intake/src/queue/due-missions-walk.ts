import { join } from 'node:path';
import { missionLuaOptions, PartitionKeys, PassedOverMissions, TransitionOutcome } from '@app/event-store';
import { MissionStatus } from '@app/mission';
import { LuaScript, luaEnum, membersInOrder, parseScore, RedisConnection, SortedSetPlace, withinEnd } from '@app/redis';

/** Entries read per ZRANGE, and missions a run acts on per set; the rest wait for the next run. */
export const SWEEP_BATCH = 200;

/**
 * Missions whose stored data cannot be read that a run passes over per set before it stops: the
 * next run goes on after the last of them, so a run stays bounded however many there are.
 */
export const MAX_PASSED_OVER_PER_RUN = 500;

enum ForgetCode {
  Forgotten = 0,
  Moved = 1,
  Kept = 2,
}

const forgetScript = new LuaScript(join(__dirname, 'lua'), 'forget-timed-entry-2', missionLuaOptions({ CODE: luaEnum(ForgetCode) }));

/** What became of a mission's entry once a sweep acted on it. */
export type DueEntry =
  /** The event the sweep appended took it out of the set (the event's effect). */
  | { kind: 'left' }
  /**
   * Nothing is left to wait for in the entry read (another instance acted first, the mission moved
   * on, or it no longer exists): the walk takes it out of the set, unless it was written again
   * since (the mission came back, at a new time) or its mission was (another version or status
   * `st` than `read`, the ones the sweep read; or there again, `read` null: written back by
   * `replay rebuild`), which stays. The status catches `replay rebuild` switching in, at the same
   * version, the state of a mission whose `s` had drifted (edited to a status it does not have).
   */
  | { kind: 'stale'; read: { version: number; status: MissionStatus } | null }
  /**
   * The mission still waits on the entry (by its own data, it is not due yet): it stays, and the
   * walk steps over it, unless it was written again meanwhile (at a new time: it left its place).
   */
  | { kind: 'waiting' };

/** The entries a sweep's `act` answers. */
export const DueEntry = {
  Left: { kind: 'left' },
  Waiting: { kind: 'waiting' },
  /**
   * The entry of a mission the sweep's transition did not change: stale as of the mission it read
   * (none, not found); not a lost lease (withoutLease).
   */
  staleAfter: (outcome: Extract<TransitionOutcome, { kind: 'skipped' | 'not_found' }>): DueEntry => ({
    kind: 'stale',
    read: outcome.kind === 'skipped' ? { version: outcome.mission.version, status: outcome.mission.status } : null,
  }),
} as const;

/**
 * `outcome`, a transition of a sweep, which passes no lease id: one that lost a lease cannot be,
 * and fails the run rather than be taken for a mission not found (whose entry, its hash there,
 * would be kept and acted on again every run).
 */
export function withoutLease<T extends TransitionOutcome>(outcome: T): Exclude<T, { kind: 'lease_lost' }> {
  if (outcome.kind === 'lease_lost') throw new Error('a sweep holds no lease, yet its transition lost one');
  return outcome as Exclude<T, { kind: 'lease_lost' }>;
}

/**
 * A sweep's walk over sorted sets of mission ids by the time something is due for them (scheduled
 * missions, deadlines, review deadlines), earliest first, up to the time given. A mission acted on
 * leaves the set (its event's effect, or the walk forgets a stale entry) or, still waiting on its
 * entry, stays; one whose stored data cannot be read (PassedOverMissions) stays too, for a run
 * after `replay rebuild` has mended it. A run that read the first SWEEP_BATCH due entries, again
 * and again, stalled behind SWEEP_BATCH entries that stay: those due after them were never acted
 * on. The walk pages past them, as the retention round does, from its place: the last entry it
 * came to (membersInOrder). It used to count the entries left in place and read on from that
 * offset, which skipped an entry each time one of them left the set meanwhile (its mission
 * cancelled, or acted on by another instance), until a run next started from the earliest.
 *
 * A run acts on at most SWEEP_BATCH missions and passes over at most MAX_PASSED_OVER_PER_RUN per
 * set. A run stopped by either bound is taken up by the next where it stopped (after the last entry
 * it came to); a run that reaches the end of what is due leaves the next to start from the
 * earliest, so a mission mended meanwhile is looked at again, as does a run due by an earlier time
 * than the place it is handed. The walk reads no entry due after `until`, tied with its place or
 * not: one read before it was due was taken for stale and forgotten. A mission due behind fewer than
 * MAX_PASSED_OVER_PER_RUN unreadable ones is acted on in the same run, one behind more in a later
 * one: each run moves the walk past that many. The place is this instance's own, kept in memory.
 */
export class DueMissionsWalk {
  /** Per set key, the place (the last entry a run came to) the next run goes on after. */
  private readonly resumeAfter = new Map<string, SortedSetPlace>();

  constructor(
    private readonly redis: RedisConnection,
    private readonly passedOver: PassedOverMissions,
  ) {}

  /**
   * Acts on the missions of `key`, a set of `partition` (where their hashes are), due by `until`
   * (a ZRANGE BYSCORE bound), in order; `act` says what became of the mission's entry. `act`
   * failing with UnreadableStoredDataError passes the mission over; any other failure ends the run.
   */
  async walk(partition: PartitionKeys, key: string, until: string, act: (missionId: string) => Promise<DueEntry>): Promise<void> {
    const handed = this.resumeAfter.get(key);
    this.resumeAfter.delete(key);
    // A run due by an earlier time than the stopped one (the clock stepped back, a sweep asked for
    // an earlier time) starts from the earliest: after a place beyond `until` it would read nothing,
    // and pass over every entry due by `until` that joined before the place meanwhile.
    const from = handed !== undefined && withinEnd(handed.score, until, 'asc') ? handed : undefined;
    let acted = 0;
    let passed = 0;
    // Whether an entry left the set, stays, or was written again elsewhere, the walk reads on after it.
    for await (const [missionId, score] of membersInOrder(this.redis, key, { end: until, pageSize: SWEEP_BATCH, from })) {
      const entry = await this.passedOver.step(missionId, () => act(missionId));
      if (entry === undefined) passed += 1;
      else acted += 1;
      // Left in the set, stale entries (of missions deleted by hand, say) filled every run's SWEEP_BATCH.
      if (entry?.kind === 'stale') await this.forget(partition, key, missionId, score, entry.read);
      if (acted >= SWEEP_BATCH || passed >= MAX_PASSED_OVER_PER_RUN) {
        this.resumeAfter.set(key, { score: parseScore(score), member: missionId });
        return;
      }
    }
  }

  /** Takes a stale entry, read at `score`, out of the set, unless it or its mission was written again since (forget-timed-entry-2.lua). */
  private async forget(
    partition: PartitionKeys,
    key: string,
    missionId: string,
    score: string,
    read: Extract<DueEntry, { kind: 'stale' }>['read'],
  ): Promise<void> {
    await forgetScript.run(this.redis, [key, partition.mission(missionId)], [missionId, score, read?.version ?? '', read?.status ?? '']);
  }
}
