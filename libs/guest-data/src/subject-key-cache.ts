import { SubjectDataKey } from './field-envelope';

/**
 * Unwrapped data keys held in this process, bounded in number and age: an erasure by another
 * process is seen here within `ttlMs` at the latest (the erasing process evicts at once).
 */
export class SubjectKeyCache {
  private readonly entries = new Map<string, { key: SubjectDataKey; expiresAt: number }>();

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

  set(key: SubjectDataKey): void {
    if (this.ttlMs <= 0) return;
    this.entries.delete(key.subject);
    // A Map iterates in insertion order: the first entry is the one stored longest ago.
    while (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key.subject, { key, expiresAt: this.now() + this.ttlMs });
  }

  evict(subject: string): void {
    this.entries.delete(subject);
  }

  get size(): number {
    return this.entries.size;
  }
}
