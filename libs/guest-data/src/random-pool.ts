import { randomBytes } from 'node:crypto';

/**
 * Random bytes (IVs, data keys, key ids) cut from one draw of the CSPRNG: a `randomBytes` call
 * costs about 5 µs whatever its size, more than sealing a field, and a mission with a new subject
 * took five. Bytes handed out are never handed out again: a used-up pool is replaced, not
 * overwritten, so what was given out stays as it was.
 */
export class RandomPool {
  private pool = Buffer.alloc(0);
  private offset = 0;

  constructor(private readonly drawBytes = 4096) {}

  /** `size` fresh random bytes, a view into the pool: for values used at once (an IV). */
  take(size: number): Buffer {
    if (size > this.drawBytes) return randomBytes(size);
    if (this.offset + size > this.pool.length) {
      this.pool = randomBytes(this.drawBytes);
      this.offset = 0;
    }
    this.offset += size;
    return this.pool.subarray(this.offset - size, this.offset);
  }

  /** `size` fresh random bytes in a buffer of their own: for values kept (a data key), so they do not hold the whole pool in memory. */
  copy(size: number): Buffer {
    return Buffer.from(this.take(size));
  }
}

/** The process's pool for guest data's random values. */
export const guestDataRandom = new RandomPool();
