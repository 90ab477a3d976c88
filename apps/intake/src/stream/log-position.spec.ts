import * as fc from 'fast-check';
import { beyondHead, compareEntryIds, formatPosition, parsePosition } from './log-position';

const MAX_PART = 2n ** 64n - 1n;
const entryId = fc.tuple(fc.bigInt({ min: 0n, max: MAX_PART }), fc.bigInt({ min: 0n, max: MAX_PART })).map(([ms, seq]) => `${ms}-${seq}`);
/** Entry ids a reader can stand at: all but the largest, after which nothing can come. */
const resumableId = entryId.filter((id) => id !== `${MAX_PART}-${MAX_PART}`);

describe('log positions (the live stream event id)', () => {
  it('given any position of any partition count, then it parses back to itself, and only with that count', () => {
    fc.assert(
      fc.property(fc.array(resumableId, { minLength: 1, maxLength: 256 }), (position) => {
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

  // Redis refuses these as a start to read after: the stream used to answer 200 and then drop the connection.
  it.each(['99999999999999999999-0', `${MAX_PART + 1n}-0`, `0-${MAX_PART + 1n}`, `${MAX_PART}-${MAX_PART}`, `0-0.${MAX_PART + 1n}-0`])(
    'given %j, a part past 64 bits or the largest id of all, then it is not a position',
    (text) => {
      expect(parsePosition(text, text.split('.').length)).toEqual({ problem: expect.any(String) });
    },
  );

  it('given the largest time with a sequence below the largest, then it is a position', () => {
    expect(parsePosition(`${MAX_PART}-0`, 1)).toEqual([`${MAX_PART}-0`]);
  });

  it('given a position at or below the head in every partition, then it can be resumed from; past it in any partition, then not', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(resumableId, resumableId), { minLength: 1, maxLength: 16 }), (pairs) => {
        const position = pairs.map(([id]) => id);
        const head = pairs.map(([, id]) => id);
        const past = pairs.findIndex(([id, last]) => compareEntryIds(id, last) > 0);
        if (past < 0) expect(beyondHead(position, head)).toBeNull();
        else expect(beyondHead(position, head)).toMatch(new RegExp(`past the end of the log \\(partition ${past} ends at ${head[past]}\\)`));
      }),
    );
  });

  it.each([
    [['99999999999999-0'], ['1764745200000-3']],
    [['1764745200000-4'], ['1764745200000-3']],
    [['1-0'], ['0-0']],
    [
      ['1764745200000-0', '1764745200001-0'],
      ['1764745200005-0', '1764745200000-9'],
    ],
  ])('given %j on a log whose head is %j, then it is past the end', (position, head) => {
    expect(beyondHead(position, head)).toEqual(expect.stringMatching(/^Last-Event-ID is past the end of the log/));
  });

  it.each([
    [['1764745200000-3'], ['1764745200000-3']],
    [
      ['0-0', '5-0'],
      ['0-0', '6-0'],
    ],
  ])('given %j on a log whose head is %j, then it is at or below it', (position, head) => {
    expect(beyondHead(position, head)).toBeNull();
  });
});
