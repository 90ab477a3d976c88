import { CronExpressionParser } from 'cron-parser';
import type { ScheduleRecord } from './schedule-events';

/** Due times counted for one ScheduleSkipped event: cron-parser takes ~0.2 ms a due time, so one step stays short. */
const SKIP_BATCH = 1_000;

const HOUR_MS = 3_600_000;
/**
 * Hours nextDueAfter starts its search later when cron-parser gives up (see there): a DST change
 * moves the clock by an hour at most, and each failed search costs ~1 s of the event loop.
 */
const PARSER_RETRIES = 3;

/** What a schedule does next at a time: nothing yet, skip due times too old to catch up, or fire one. */
export type FiringStep = { kind: 'wait' } | { kind: 'skip'; count: number; from: Date; to: Date } | { kind: 'fire'; dueAt: Date };

/** The last day every month has: a hashed day of the month stays within it (hashedDayProblem). */
const LAST_DAY_OF_EVERY_MONTH = 28;

/** An `H` term of a field: `H`, `H/<step>`, `H(<from>-<to>)` or `H(<from>-<to>)/<step>`. */
const HASHED_TERM = /^H(?:\((\d+)-(\d+)\))?(?:\/(\d+))?$/;

/** An `H` as a range's first or last value (`H-3`, `5-H`), not a letter of a day's name (`THU-FRI`). */
const HASH_AS_BOUND = /(?<![A-Za-z])H-|-H(?![A-Za-z])/;

/** The five fields in order, with the values each takes (cron-parser's: a day of the week of 7 is Sunday). */
const CRON_FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  { name: 'day-of-week', min: 0, max: 7 },
] as const;

/**
 * Why `cron` in `timeZone` cannot be a schedule, or null. Five fields only: a seconds field would
 * let one schedule fire 86 400 missions a day. `hashSeed` is the schedule's id, as for its due
 * times; `now` is when the schedule is made.
 */
export function scheduleTimingProblem(
  cron: string,
  timeZone: string,
  hashSeed: string,
  now = new Date(),
): { field: 'cron' | 'timeZone'; problem: string } | null {
  if (!isTimeZone(timeZone)) return { field: 'timeZone', problem: `timeZone ${JSON.stringify(timeZone)} is not an IANA time zone (e.g. Europe/Berlin, UTC)` };
  const fields = cron.trim().split(/\s+/);
  if (fields.length !== 5) return { field: 'cron', problem: 'cron must have five fields: minute hour day-of-month month day-of-week' };
  const termProblem =
    openRangeProblem(fields) ??
    hashedRangeProblem(cron, fields) ??
    hashedDayProblem(fields[2]) ??
    hashedBoundProblem(fields) ??
    hashedMonthProblem(fields[2], fields[3], fields[4]);
  if (termProblem) return { field: 'cron', problem: termProblem };
  let next: Date | null;
  try {
    // Searched as a schedule's due times are (nextDueAfter): cron-parser giving up next to a DST
    // transition refused a valid schedule made at such a time.
    next = nextDueAfter(cron, timeZone, now, hashSeed);
  } catch (error) {
    return { field: 'cron', problem: `cron ${JSON.stringify(cron)} is not a valid expression: ${error instanceof Error ? error.message : String(error)}` };
  }
  return next ? null : { field: 'cron', problem: `cron ${JSON.stringify(cron)} is never due` };
}

/**
 * Why an `H(a-b)` range of some field reaches beyond the values the field takes, or null.
 * cron-parser refuses such a literal range (`0-30` as the hour) but clamps a hashed one, so
 * `0 H(0-30) * * *` was a schedule whose hour only some ids could tell; refused as the literal is.
 */
function hashedRangeProblem(cron: string, fields: readonly string[]): string | null {
  for (const [index, { name, min, max }] of CRON_FIELDS.entries()) {
    for (const term of fields[index].split(',')) {
      const [, from, to] = HASHED_TERM.exec(term) ?? [];
      if (from === undefined || to === undefined) continue;
      if (Number(from) < min || Number(to) > max) {
        return `cron ${JSON.stringify(cron)} is not a valid expression: ${name} ${term} reaches beyond ${min}-${max}`;
      }
    }
  }
  return null;
}

/**
 * Why a term is a range without its first or last value (`-3`, `3-`, `3-/5`), or null: cron-parser
 * read the missing one as NaN and said `got range NaN-3`.
 */
function openRangeProblem(fields: readonly string[]): string | null {
  for (const [index, { name }] of CRON_FIELDS.entries()) {
    for (const term of fields[index].split(',')) {
      if (/^-|-$|-\//.test(term)) return `cron ${JSON.stringify(term)} in ${name} is a range without its first or last value: write both, as in 1-5`;
    }
  }
  return null;
}

/**
 * Why an `H` is a bound of a range (`H-3`, `5-H`) in a field other than the day of the month (whose
 * own rule says more, hashedDayProblem), or null. cron-parser puts the id's hashed value there, so
 * the range holds for some ids and is backwards for others: `H-3` as the minute was a 400 for 93 %
 * of the ids a schedule could get and a 201 for the rest.
 */
function hashedBoundProblem(fields: readonly string[]): string | null {
  for (const [index, { name }] of CRON_FIELDS.entries()) {
    for (const term of fields[index].split(',')) {
      if (HASH_AS_BOUND.test(term)) {
        return `cron ${JSON.stringify(term)} in ${name} bounds a range by H, which the schedule's id decides: use H(a-b) for a hashed value within a-b`;
      }
    }
  }
  return null;
}

/**
 * Why an `H` of the month field could take a month in which no day of the day-of-month field comes
 * (`0 0 31 H *`), or null: every day it names is the 29th or later and no day of the week is named
 * (which cron-parser ORs with the days of the month). cron-parser refuses such an expression for
 * the months without that day, so the same request succeeded or failed by the schedule id it
 * happened to get, or (the 29th in February) fired once in four years; it is refused for every id
 * alike, as an `H` day of the month beyond the 28th is (hashedDayProblem).
 */
function hashedMonthProblem(dayOfMonth: string, month: string, dayOfWeek: string): string | null {
  if (!month.includes('H') || !['*', '?'].includes(dayOfWeek)) return null;
  const firstDays = dayOfMonth.split(',').map(firstDayOf);
  if (firstDays.some((day) => day <= LAST_DAY_OF_EVERY_MONTH)) return null;
  return `cron month ${JSON.stringify(month)} may take a month without day ${Math.min(...firstDays)}: name the months, or a day within 1-28`;
}

/** The first day a term of the day-of-month field takes (`*` and `?` the 1st, `L` the last, which every month has). */
function firstDayOf(term: string): number {
  if (term.startsWith('*') || term.startsWith('?') || term.startsWith('L')) return 1;
  const first = /^\d+/.exec(term);
  return first ? Number(first[0]) : 1;
}

/**
 * Why an `H` of the day-of-month field could take a day some months lack (the 29th to the 31st),
 * or null. Such a schedule would skip those months without a word, and whether it is ever due
 * (`0 0 H 2 *`) would depend on the id it happens to get; so it is refused for every id alike. An
 * `H` term is due every month it names when its first day is at most the 28th: `H(a-b)` with b up
 * to 28, or a step whose first day is (`H/s`, `H(a-b)/s` with a+s-1 up to 28). Any other use of
 * `H` in the field (as a range's end, `H-31`) is refused, as its day cannot be told in advance.
 */
function hashedDayProblem(dayOfMonth: string): string | null {
  for (const term of dayOfMonth.split(',')) {
    if (!term.includes('H')) continue;
    const hashed = HASHED_TERM.exec(term);
    const firstDay = hashed ? hashedFirstDay(hashed) : Infinity;
    if (firstDay > LAST_DAY_OF_EVERY_MONTH) {
      return `cron ${JSON.stringify(term)} in day-of-month may take the 29th to the 31st, which some months lack: give it a range within 1-28, e.g. H(1-28)`;
    }
  }
  return null;
}

/** The latest day an `H` term of the day-of-month field may take first, whatever the schedule id. */
function hashedFirstDay([, from, to, step]: RegExpExecArray): number {
  const lastOfRange = to !== undefined ? Number(to) : 31;
  if (step === undefined) return lastOfRange;
  return Math.min(lastOfRange, (from !== undefined ? Number(from) : 1) + Number(step) - 1);
}

function isTimeZone(timeZone: string): boolean {
  if (timeZone === '') return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone });
    return true;
  } catch {
    return false;
  }
}

/**
 * The first due time strictly after `after`, or null when the expression has none. `hashSeed`
 * places an `H` field (cron-parser's hashed value): the schedule's id, so each schedule keeps its
 * own minute at every read; without a seed cron-parser draws it anew on every parse.
 */
export function nextDueAfter(cron: string, timeZone: string, after: Date, hashSeed: string): Date | null {
  // Without an end date a valid expression always has a next time: no next is cron-parser giving
  // up ("loop limit exceeded") next to some DST transitions (Australia/Lord_Howe's half hour), and
  // the schedule used to stop for good, silently. The search starts again an hour later, up to
  // PARSER_RETRIES times, so only the due times of the hour cron-parser cannot place are missed.
  for (let retry = 0; retry <= PARSER_RETRIES; retry += 1) {
    const times = CronExpressionParser.parse(cron, { tz: timeZone, currentDate: new Date(after.getTime() + retry * HOUR_MS), hashSeed });
    if (times.hasNext()) return times.next().toDate();
  }
  return null;
}

/** The schedule's next due time after the last one dealt with (or its creation); null once deleted or never due again. */
export function nextDueOf(schedule: Pick<ScheduleRecord, 'id' | 'cron' | 'timeZone' | 'lastDueAt' | 'createdAt' | 'deletedAt'>): Date | null {
  return schedule.deletedAt ? null : nextDueAfter(schedule.cron, schedule.timeZone, new Date(schedule.lastDueAt ?? schedule.createdAt), schedule.id);
}

/**
 * The next step of a schedule whose due times up to `since` are dealt with, at `now`: the first due
 * time after `since` fires if it is at most `catchUpMs` old; due times older than that are skipped,
 * counted in one step (at most SKIP_BATCH of them, the rest in the next step). `hashSeed` as for
 * nextDueAfter.
 */
export function nextFiringStep(cron: string, timeZone: string, since: Date, now: Date, catchUpMs: number, hashSeed: string): FiringStep {
  const times = dueTimesAfter(cron, timeZone, since, hashSeed);
  const first = times.next().value;
  if (!first || first > now) return { kind: 'wait' };
  const oldest = now.getTime() - catchUpMs;
  if (first.getTime() >= oldest) return { kind: 'fire', dueAt: first };
  let count = 1;
  let last = first;
  for (const due of times) {
    if (count >= SKIP_BATCH || due.getTime() >= oldest) break;
    count += 1;
    last = due;
  }
  return { kind: 'skip', count, from: first, to: last };
}

/**
 * The due times after `after`, in order, for as long as the caller takes them: read from one
 * parser, and past a time cron-parser cannot step over (its "loop limit exceeded" next to some DST
 * transitions) from nextDueAfter, which searches again from an hour later.
 */
function* dueTimesAfter(cron: string, timeZone: string, after: Date, hashSeed: string): Generator<Date, void, undefined> {
  for (let from = nextDueAfter(cron, timeZone, after, hashSeed); from; from = nextDueAfter(cron, timeZone, from, hashSeed)) {
    yield from;
    const times = CronExpressionParser.parse(cron, { tz: timeZone, currentDate: from, hashSeed });
    for (;;) {
      let due: Date;
      try {
        due = times.next().toDate();
      } catch {
        break;
      }
      yield due;
      from = due;
    }
  }
}
