import { isIsoInstant, isIsoTime, timeBoundMs } from './iso-time.validator';

describe('isIsoTime', () => {
  it.each(['2026-05-01T12:00:00Z', '2026-05-01T12:00:00.123+02:00', '2026-05-01', '2026-05-01T12:00Z'])('given %s, then it is a time', (value) => {
    expect(isIsoTime(value)).toBe(true);
  });

  it.each([
    ['a week date', '2009-W53-7'],
    ['an ordinal date', '2026-100'],
    ['a decimal comma', '2026-05-01T10:00:00,5Z'],
    ['an impossible day', '2026-02-30'],
    ['a year beyond what Date holds', '+275760-09-14T00:00:00Z'],
    ['words', 'tomorrow'],
  ])('given %s, then it is not', (_case, value) => {
    expect(isIsoTime(value)).toBe(false);
  });

  it('given a non-string, then it is not', () => {
    expect(isIsoTime(1767225600000)).toBe(false);
    expect(isIsoTime(null)).toBe(false);
  });
});

describe('isIsoInstant', () => {
  it.each(['2026-05-01T12:00:00Z', '2026-05-01T12:00:00.123+02:00', '2026-05-01T12:00Z', '2026-05-01T12:00:00-0330'])(
    'given %s, then it is an instant',
    (value) => {
      expect(isIsoInstant(value)).toBe(true);
    },
  );

  it.each([
    // Read in the process's time zone: 18:00 UTC with TZ unset, 16:00 UTC with TZ=Europe/Berlin.
    ['a date-time without offset', '2026-05-01T18:00:00'],
    // Read as midnight UTC: a deadline "by that day" was overdue as it began.
    ['a bare date', '2026-05-01'],
    ['a local time that does not exist (DST)', '2026-03-29T02:30:00'],
    ['no time at all', 'tomorrow'],
  ])('given %s, then it is not', (_case, value) => {
    expect(isIsoInstant(value)).toBe(false);
  });
});

describe('timeBoundMs', () => {
  const at = (time: string) => Date.parse(time);

  // Date.parse dropped the digits past the millisecond: a mission created at …31.015 was "at or after" …31.0151.
  it.each([
    ['2026-05-01T10:00:31.0151Z', at('2026-05-01T10:00:31.016Z')],
    ['2026-05-01T10:00:31.0159999Z', at('2026-05-01T10:00:31.016Z')],
    ['2026-05-01T12:00:31.9991+02:00', at('2026-05-01T10:00:32.000Z')],
    ['1960-05-01T10:00:31.0151Z', at('1960-05-01T10:00:31.016Z')],
  ])('given %s, with digits past the millisecond, then it is the next whole millisecond', (time, expected) => {
    expect(timeBoundMs(time)).toBe(expected);
  });

  it.each(['2026-05-01T10:00:31.015Z', '2026-05-01T10:00:31.0150000Z', '2026-05-01T10:00:31.5Z', '2026-05-01T10:00:31Z', '2026-05-01'])(
    'given %s, a whole millisecond, then it is that millisecond',
    (time) => {
      expect(timeBoundMs(time)).toBe(at(time));
    },
  );
});
