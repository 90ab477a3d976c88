import { ChainableCommander } from 'ioredis';
import { execAllKeepingWrongType, RedisConnection, WRONG_TYPE_REPLY } from '@app/redis';

/** A walk over the log that can catch up with events appended since it started. */
export interface LogFollower {
  /** SHA-1 of the last event the walk has seen ('' before any): what the log head is when nothing was appended since. */
  readonly headHash: string;
  /** Reads and processes what was appended since the walk's last batch; resolves with the number of events read. */
  catchUp(): Promise<number>;
}

/** On a log that never stands still, give up waiting for a quiet moment after this many catch-ups. */
const MAX_CATCH_UPS = 50;

export interface HeadRead {
  /**
   * The log head read with the replies; null when its key holds another Redis type (changed by
   * hand): it names no event, and no append can pass it (each reads it), so the log stands still.
   */
  head: string | null;
  replies: unknown[];
  /**
   * True when the log was still moving after MAX_CATCH_UPS catch-ups: the replies are of a read
   * model newer than the walk, by the events appended since its last catch-up, so whatever those
   * events changed must not be compared with the walk (it would be a false alarm).
   */
  moving: boolean;
}

/**
 * Reads the read model as of the events the walk has seen: the queued commands run in one MULTI
 * with GET of the log head, and when the head shows that events were appended since the walk, the
 * walk catches up and the read is repeated. Appends are atomic (events, mission hash and head in
 * one script), so a read at the walk's head sees exactly the state those events produced.
 * A head that names no event the walk can reach (a tampered log) is returned as it is, not moving;
 * one of another Redis type as null.
 * A command refused for its key's type is WRONG_TYPE_REPLY among the replies (execAllKeepingWrongType).
 */
export async function readAtHead(
  redis: RedisConnection,
  logHeadKey: string,
  follower: LogFollower,
  queue: (multi: ChainableCommander) => void,
): Promise<HeadRead> {
  for (let round = 0; ; round++) {
    const multi = redis.multi();
    multi.get(logHeadKey);
    queue(multi);
    // A key of another type (changed by hand) is WRONG_TYPE_REPLY in its place, for the caller to name.
    const [headReply, ...replies] = await execAllKeepingWrongType(multi);
    // Nothing was appended since, nor can be: the replies are in step with the walk.
    if (headReply === WRONG_TYPE_REPLY) return { head: null, replies, moving: false };
    const head = (headReply as string | null) ?? '';
    if (head === follower.headHash) return { head, replies, moving: false };
    if (round >= MAX_CATCH_UPS) return { head, replies, moving: true };
    if ((await follower.catchUp()) === 0) return { head, replies, moving: false };
  }
}
