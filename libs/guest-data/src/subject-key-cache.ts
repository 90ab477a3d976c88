import { SubjectDataKey } from './field-envelope';

/**
 * Unwrapped data keys held in this process, bounded in number and age: an erasure by another
 * process is seen here within `ttlMs` at the latest (the erasing process evicts at once).
 *
 * Every service of a process may share one cache, each over its own Redis connection, so a key
 * read just before an erasure can arrive after the erasure's eviction. A reader takes a `mark()`
 * before it reads, and `set()` with it keeps nothing the cache evicted since: an erased key never
 * comes back into the cache.
 */
export class SubjectKeyCache {
  private readonly entries = new Map<string, { key: SubjectDataKey; expiresAt: number }>();
  /** The eviction count at each subject's last eviction (insertion order: oldest first), at most maxEntries of them. */
  private readonly evictedAt = new Map<string, number>();
  private evictions = 0;
  /** Marks below this may predate an eviction no longer listed in evictedAt: their keys are not kept. */
  private forgottenUpTo = 0;

  constructor(
    readonly ttlMs: number,
    readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(subject: string): SubjectDataKey | undefined {
    const entry = this.entries.get(subject);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(subject);
      return undefined;
    }
    return entry.key;
  }

  /** Taken before a key is read from Redis, and given to set() with what was read. */
  mark(): number {
    return this.evictions;
  }

  /** Keeps the key, unless its subject was evicted after `readAt` (the key may be one erased since). */
  set(key: SubjectDataKey, readAt: number): void {
    if (this.ttlMs <= 0) return;
    if (readAt < this.forgottenUpTo || (this.evictedAt.get(key.subject) ?? -1) > readAt) return;
    this.entries.delete(key.subject);
    // A Map iterates in insertion order: the first entry is the one stored longest ago.
    while (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key.subject, { key, expiresAt: this.now() + this.ttlMs });
  }

  evict(subject: string): void {
    this.entries.delete(subject);
    this.evictions += 1;
    this.evictedAt.delete(subject);
    this.evictedAt.set(subject, this.evictions);
    if (this.evictedAt.size > this.maxEntries) {
      const [oldest, at] = this.evictedAt.entries().next().value as [string, number];
      this.evictedAt.delete(oldest);
      this.forgottenUpTo = at;
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
