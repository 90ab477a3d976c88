import { daysBetween } from './daily-report.reader';

describe('daysBetween', () => {
  it('given a range over a month end and a leap day, then it lists every UTC day, both ends included', () => {
    expect(daysBetween('2028-02-27', '2028-03-01')).toEqual(['2028-02-27', '2028-02-28', '2028-02-29', '2028-03-01']);
  });

  it('given the same day twice, then it is one day; given to before from, then none', () => {
    expect(daysBetween('2026-05-01', '2026-05-01')).toEqual(['2026-05-01']);
    expect(daysBetween('2026-05-02', '2026-05-01')).toEqual([]);
  });
});
