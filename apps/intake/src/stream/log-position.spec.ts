import * as fc from 'fast-check';
import { compareEntryIds, formatPosition, parsePosition } from './log-position';

const entryId = fc.tuple(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })).map(([ms, seq]) => `${ms}-${seq}`);

describe('log positions (the live stream event id)', () => {
  it('given any position of any partition count, then it parses back to itself, and only with that count', () => {
    fc.assert(
      fc.property(fc.array(entryId, { minLength: 1, maxLength: 256 }), (position) => {
        expect(parsePosition(formatPosition(position), position.length)).toEqual(position);
        expect(parsePosition(formatPosition(position), position.length + 1)).toEqual({ problem: expect.stringMatching(/LOG_PARTITIONS=/) });
      }),
    );
  });

  it('given two entry ids, then they compare as Redis orders them: by time, then by sequence', () => {
    fc.assert(
      fc.property(entryId, entryId, (a, b) => {
        const [aMs, aSeq] = a.split('-').map(BigInt);
        const [bMs, bSeq] = b.split('-').map(BigInt);
        const expected = aMs === bMs ? Math.sign(Number(aSeq - bSeq)) : Math.sign(Number(aMs - bMs));
        expect(compareEntryIds(a, b)).toBe(expected);
        expect(compareEntryIds(b, a)).toBe(-expected);
      }),
    );
  });

  it.each(['', 'x', '1-2-3', '1.2', '-1-0', '1-0.', `${'9'.repeat(21)}-0`])('given %j, then it is not a position', (text) => {
    expect(parsePosition(text, 1)).toEqual({ problem: expect.any(String) });
  });
});
