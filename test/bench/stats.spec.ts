import { ratioOf } from '../../scripts/bench/stats';

describe('the bench ratios (ratioOf)', () => {
  it('given a system far slower than its peer, then the ratio is small but not 0', () => {
    // 40 HTTP creates/s against a bare server's 10,000 used to read 0 (two decimals), as if nothing was created.
    expect(ratioOf(40, 10_000)).toBe(0.004);
    expect(ratioOf(311, 10_867)).toBe(0.0286);
  });

  it('given figures of the same order, then three significant digits', () => {
    expect(ratioOf(963, 3_920)).toBe(0.246);
    expect(ratioOf(7_900, 3_920)).toBe(2.02);
  });

  it('given a missing figure, or a peer at 0, then no ratio', () => {
    expect(ratioOf(null, 10)).toBeNull();
    expect(ratioOf(10, null)).toBeNull();
    expect(ratioOf(10, 0)).toBeNull();
  });
});
