import fc from 'fast-check';
import { RandomPool } from './random-pool';

describe('random pool', () => {
  it('given any sequence of draws across several refills, then no byte range is handed out twice and what was handed out never changes', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 200 }), (sizes) => {
        const pool = new RandomPool(64);
        const given = sizes.map((size) => {
          const view = pool.take(size);
          return { view, snapshot: Buffer.from(view) };
        });
        // Views of a replaced pool keep their bytes: the pool is never overwritten in place.
        for (const { view, snapshot } of given) expect(view.equals(snapshot)).toBe(true);
        // Two draws of the same underlying memory would overlap; 8 random bytes repeating by chance is 2^-64.
        const seen = new Set<string>();
        for (const { view } of given) {
          for (let start = 0; start + 8 <= view.length; start += 8) {
            const chunk = view.subarray(start, start + 8).toString('hex');
            expect(seen.has(chunk)).toBe(false);
            seen.add(chunk);
          }
        }
      }),
    );
  });

  it('given a draw larger than the pool, then it is drawn on its own at its full size', () => {
    const pool = new RandomPool(16);
    expect(pool.take(100)).toHaveLength(100);
  });

  it('given a copy, then it owns its bytes: it does not hold the pool the next draw comes from', () => {
    const pool = new RandomPool(64);
    const key = pool.copy(32);
    const next = pool.take(8);
    expect(key).toHaveLength(32);
    expect(key.buffer).not.toBe(next.buffer);
  });
});
