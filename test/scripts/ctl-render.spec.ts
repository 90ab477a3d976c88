import { localTime } from '../../scripts/ctl/render';

describe('ctl times', () => {
  it.each([
    ['UTC', '2026-12-05 01:49:10 +00:00'],
    ['Asia/Kolkata', '2026-12-05 07:19:10 +05:30'],
    ['America/St_Johns', '2026-12-04 22:19:10 -03:30'],
  ])('given the zone %s, then a time is written in it with its offset, so it names one instant anywhere', (zone, written) => {
    expect(localTime('2026-12-05T01:49:10.000Z', zone)).toBe(written);
  });

  it('given no zone, then the local one, with its offset', () => {
    expect(localTime('2026-12-05T01:49:10.000Z')).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:10 [+-]\d\d:\d\d$/);
  });

  it('given no time or no date, then a dash or the text as it came', () => {
    expect(localTime(null)).toBe('—');
    expect(localTime('not a date')).toBe('not a date');
  });
});
