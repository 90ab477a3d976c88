import { ValidationOptions } from 'class-validator';
import { MISSION_TYPES, MissionType } from '@app/mission';
import { IsParsedBy } from './parsed-by';

/** Days a finished mission's personal data is kept, per mission type. */
export type RetentionDays = Readonly<Record<MissionType, number>>;

/**
 * What each type keeps when RETENTION_DAYS does not name it: a guest's request and the reply to
 * it a quarter of a year (complaints and follow-ups come back within it); pricing and maintenance
 * work, which names a guest only now and then, a year (the season it is compared with).
 */
export const DEFAULT_RETENTION_DAYS: RetentionDays = { guest_support: 90, pricing: 365, maintenance: 365 };

/** The longest retention one can set: about a hundred years, in effect "keep". */
export const MAX_RETENTION_DAYS = 36_500;

const EXAMPLE = 'e.g. guest_support:30,pricing:365';

/**
 * Parses `type:days` entries, comma-separated (blank entries skipped); a type not named keeps
 * DEFAULT_RETENTION_DAYS. Days are whole, 0 (erase once finished) to MAX_RETENTION_DAYS. The error
 * names the first bad entry by position.
 */
export function parseRetentionDays(text: string): RetentionDays {
  const days: Record<MissionType, number> = { ...DEFAULT_RETENTION_DAYS };
  const seen = new Set<string>();
  text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .forEach((entry, index) => {
      const where = `RETENTION_DAYS entry ${index + 1} (${JSON.stringify(entry)})`;
      const match = /^([a-z_]+):(\d{1,6})$/.exec(entry);
      if (!match) throw new Error(`${where} is not type:days, ${EXAMPLE}`);
      const [, type, value] = match;
      if (!(MISSION_TYPES as readonly string[]).includes(type)) throw new Error(`${where} names no mission type (${MISSION_TYPES.join(', ')})`);
      if (seen.has(type)) throw new Error(`${where} names ${type} a second time`);
      seen.add(type);
      const n = Number(value);
      if (n > MAX_RETENTION_DAYS) throw new Error(`${where} keeps ${n} days, more than ${MAX_RETENTION_DAYS}`);
      days[type as MissionType] = n;
    });
  return days;
}

/** class-validator rule that reports parseRetentionDays' own message, so validation and use never disagree. */
export function IsRetentionDays(options?: ValidationOptions): PropertyDecorator {
  return IsParsedBy('isRetentionDays', 'RETENTION_DAYS', parseRetentionDays, options);
}
