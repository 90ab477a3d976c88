import { nestsDeeperThan } from './request-body';

const nested = (levels: number): unknown => {
  let value: unknown = 'leaf';
  for (let i = 0; i < levels; i += 1) value = i % 2 === 0 ? [value] : { next: value };
  return value;
};

describe('nestsDeeperThan', () => {
  it('given values up to the limit, then none is too deep; one level more, then it is', () => {
    for (const levels of [0, 1, 5, 32]) expect(nestsDeeperThan(nested(levels), 32)).toBe(false);
    expect(nestsDeeperThan(nested(33), 32)).toBe(true);
    expect(nestsDeeperThan({ shallow: 1, deep: { a: [nested(31)] } }, 32)).toBe(true);
  });

  it('given a value nested 100,000 levels deep, then it answers without overflowing the stack', () => {
    expect(nestsDeeperThan(nested(100_000), 32)).toBe(true);
  });
});
