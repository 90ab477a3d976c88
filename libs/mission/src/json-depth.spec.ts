import fc from 'fast-check';
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

  it('given any JSON value, then its text nests deeper than a limit exactly when the value does, as a string and as UTF-8 bytes', () => {
    const depthOf = (value: unknown): number => (typeof value === 'object' && value !== null ? 1 + Math.max(0, ...Object.values(value).map(depthOf)) : 0);
    // Strings full of the characters the scan reads: quotes, backslashes and brackets, escaped as JSON escapes them.
    const tricky = fc.string({ unit: fc.constantFrom('"', '\\', '[', ']', '{', '}', 'a', 'é', '\\"') });
    const { value } = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        tricky,
        fc.integer(),
        fc.constant(null),
        fc.array(tie('value'), { maxLength: 3 }),
        fc.dictionary(tricky, tie('value'), { maxKeys: 3 }),
      ),
    }));
    fc.assert(
      fc.property(value, fc.integer({ min: 0, max: 6 }), (json, limit) => {
        const text = JSON.stringify(json);
        const deeper = depthOf(json) > limit;
        return jsonTextNestsDeeperThan(text, limit) === deeper && jsonTextNestsDeeperThan(Buffer.from(text), limit) === deeper;
      }),
      { numRuns: 2_000 },
    );
  });

  it('given text nested 100,000 levels deep, then it answers without overflowing the stack', () => {
    expect(jsonTextNestsDeeperThan('['.repeat(100_000) + ']'.repeat(100_000), 32)).toBe(true);
  });
});
