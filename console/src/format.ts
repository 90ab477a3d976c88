/**
 * A time in the browser's time zone, as the operator's locale writes it, with the zone's name
 * (`UTC`, `CET`, `GMT+5:30`): staff in another zone, or reading a screenshot, know what it means.
 * timeStyle 'long' is 'medium' with the zone; timeZoneName cannot go with dateStyle.
 */
export function localTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'long' });
}

export function age(ms: number): string {
  if (ms < 1_000) return `${ms} ms`;
  const seconds = Math.floor(ms / 1_000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  return minutes < 60 ? `${minutes} min ${seconds % 60} s` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** What a datetime-local input holds: a date and a time to the minute, second or millisecond, without a zone. */
const LOCAL_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/;

/**
 * A datetime-local input's value (local time) as ISO 8601 for the API; undefined for '' and for
 * anything the input could not hold (an address's `createdFrom=yesterday`, or `1`, which Date reads
 * as the year 2001), which the page says it did not understand.
 */
export function isoFromLocal(value: string): string | undefined {
  if (!LOCAL_DATE_TIME.test(value)) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}
