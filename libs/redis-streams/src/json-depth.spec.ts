import { jsonTextNestsDeeperThan } from './json-depth';

const nested = (levels: number): unknown => {
  let value: unknown = 'leaf';
  for (let i = 0; i < levels; i += 1) value = i % 2 === 0 ? [value] : { next: value };
  return value;
};

describe('jsonTextNestsDeeperThan', () => {
  const text = (levels: number) => JSON.stringify(nested(levels));

  it('given JSON text up to the limit, then none is too deep; one level more, then it is, as the parsed value would be', () => {
    for (const levels of [0, 1, 5, 32]) {
      expect(jsonTextNestsDeeperThan(text(levels), 32)).toBe(false);
      expect(jsonTextNestsDeeperThan(Buffer.from(text(levels)), 32)).toBe(false);
    }
    expect(jsonTextNestsDeeperThan(text(33), 32)).toBe(true);
    expect(jsonTextNestsDeeperThan(Buffer.from(text(33)), 32)).toBe(true);
    expect(jsonTextNestsDeeperThan(JSON.stringify({ shallow: [[1]], deep: { a: [nested(31)] } }), 32)).toBe(true);
  });

  it('given brackets inside strings, escaped quotes included, then they are not counted', () => {
    const inStrings = JSON.stringify({ a: '['.repeat(100), b: '"{{{{\\', c: ['\\"[[[['] });
    expect(jsonTextNestsDeeperThan(inStrings, 2)).toBe(false);
    expect(jsonTextNestsDeeperThan(Buffer.from(JSON.stringify({ é: '{'.repeat(50), ü: [['ö']] })), 3)).toBe(false);
  });

  it('given text nested 100,000 levels deep, then it answers without overflowing the stack', () => {
    expect(jsonTextNestsDeeperThan('['.repeat(100_000) + ']'.repeat(100_000), 32)).toBe(true);
  });
});
