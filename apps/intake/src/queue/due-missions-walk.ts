import { PassedOverMissions } from '@app/event-store';
import { RedisConnection } from '@app/redis';

/** Entries read per ZRANGE, and missions a run acts on per set; the rest wait for the next run. */
export const SWEEP_BATCH = 200;

/**
 * Missions whose stored data cannot be read that a run passes over per set before it stops: the
 * next run goes on after the last of them, so a run stays bounded however many there are.
 */
export const MAX_PASSED_OVER_PER_RUN = 500;

/**
 * A sweep's walk over sorted sets of mission ids by the time something is due for them (scheduled
 * missions, deadlines, review deadlines), earliest first, up to the time given. A mission acted on
 * leaves the set (its event's effect, or the sweep forgets its entry); one whose stored data cannot
 * be read (PassedOverMissions) stays where it is, for a run after `replay rebuild` has mended it.
 * A run that read the first SWEEP_BATCH due entries, again and again, stalled behind SWEEP_BATCH
 * such missions: those due after them were never acted on. The walk pages past them, as the
 * retention round does, counting those left in place.
 *
 * A run acts on at most SWEEP_BATCH missions and passes over at most MAX_PASSED_OVER_PER_RUN per
 * set. A run stopped by either bound is taken up by the next where it stopped (behind the missions
 * passed over); a run that reaches the end of what is due leaves the next to start from the
 * earliest, so a mission mended meanwhile is looked at again. A mission due behind fewer than
 * MAX_PASSED_OVER_PER_RUN unreadable ones is acted on in the same run, one behind more in a later
 * one: each run moves the walk past that many. The place is this instance's own, kept in memory.
 */
export class DueMissionsWalk {
  /** Per set key, how many unreadable entries due first the next run steps over. */
  private readonly resumeAt = new Map<string, number>();

  constructor(
    private readonly redis: RedisConnection,
    private readonly passedOver: PassedOverMissions,
  ) {}

  /**
   * Acts on the missions of `key` due by `until` (a ZRANGE BYSCORE bound), each with its score, in
   * order. `act` failing with UnreadableStoredDataError passes the mission over; any other failure
   * ends the run.
   */
  async walk(key: string, until: string, act: (missionId: string, score: string) => Promise<void>): Promise<void> {
    let offset = this.resumeAt.get(key) ?? 0;
    this.resumeAt.delete(key);
    let acted = 0;
    let passed = 0;
    for (;;) {
      const page = await this.redis.zrange(key, '-inf', until, 'BYSCORE', 'LIMIT', offset, SWEEP_BATCH, 'WITHSCORES');
      for (let i = 0; i + 1 < page.length; i += 2) {
        const [missionId, score] = [page[i], page[i + 1]];
        const done = await this.passedOver.step(missionId, async () => {
          await act(missionId, score);
          return true;
        });
        if (done) acted += 1;
        else {
          // Left in place: the next page starts behind it.
          offset += 1;
          passed += 1;
        }
        if (acted >= SWEEP_BATCH || passed >= MAX_PASSED_OVER_PER_RUN) {
          this.resumeAt.set(key, offset);
          return;
        }
      }
      if (page.length < 2 * SWEEP_BATCH) return;
    }
  }
}
