import { PartitionKeys } from '@app/event-store';
import { RedisConnection } from '@app/redis';
import type { ChainChecker } from './hash-chain';
import { LogFollower } from './log-snapshot';
import { noProgress, ProgressListener } from './progress';
import type { ReplayFold } from './replay-fold';
import { DEFAULT_LOG_BATCH, LogCursor, parseStored, sha1Hex, StoredEntry, StoredObject } from './stored-log';

/** Called for every log entry, in log order, with the SHA-1 of its stored JSON and the parsed JSON (null if it does not parse). */
export type EntryVisitor = (entry: StoredEntry, hash: string, stored: StoredObject | null) => void;

export const READ_LOG_PHASE = 'read log';

/**
 * One pass over the log that hashes and parses each entry once and hands it to a visitor; it can
 * catch up with events appended since, which makes it a `LogFollower` for reads at the head.
 */
export class LogWalk implements LogFollower {
  private readonly cursor: LogCursor;
  private lastHash = '';
  private total: number | undefined;

  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: PartitionKeys,
    private readonly visit: EntryVisitor,
    private readonly onProgress: ProgressListener = noProgress,
    batchSize = DEFAULT_LOG_BATCH,
  ) {
    this.cursor = new LogCursor(redis, keys.log, batchSize);
  }

  get headHash(): string {
    return this.lastHash;
  }

  get events(): number {
    return this.cursor.count;
  }

  /** Id of the last entry read, null when none. */
  get position(): string | null {
    return this.cursor.position;
  }

  async readAll(): Promise<void> {
    this.total = await this.redis.xlen(this.keys.log);
    await this.read();
  }

  async catchUp(): Promise<number> {
    const before = this.cursor.count;
    await this.read();
    const added = this.cursor.count - before;
    if (this.total !== undefined && this.cursor.count > this.total) this.total = this.cursor.count;
    return added;
  }

  private async read(): Promise<void> {
    for await (const batch of this.cursor.batches()) {
      for (const entry of batch) {
        const hash = sha1Hex(entry.json);
        this.visit(entry, hash, parseStored(entry.json));
        this.lastHash = hash;
      }
      this.onProgress({ phase: READ_LOG_PHASE, done: this.cursor.count, total: Math.max(this.total ?? 0, this.cursor.count) });
    }
  }
}

/**
 * Reads the whole log once into both `checker` and `fold`, then checks the heads at the walk's head
 * (catching up, so the fold follows): verify and rebuild both need the replay and the chains of the
 * same events. Resolves with the walk, whose position bounds the checker's second walk.
 */
export async function walkChainsAndFold(
  redis: RedisConnection,
  keys: PartitionKeys,
  checker: ChainChecker,
  fold: ReplayFold,
  onProgress: ProgressListener,
  batchSize: number,
): Promise<LogWalk> {
  const walk = new LogWalk(
    redis,
    keys,
    (entry, hash, stored) => {
      checker.add(entry, hash, stored);
      fold.add(entry, stored);
    },
    onProgress,
    batchSize,
  );
  await walk.readAll();
  await checker.checkHeads(redis, keys, walk, onProgress);
  return walk;
}
