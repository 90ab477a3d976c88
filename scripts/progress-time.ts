import { Format, Options } from 'cli-progress';

/**
 * cli-progress's time format, but an ETA it cannot tell yet (its 'INF' or 'NULL', before there is
 * progress to go by) is a dash: its own format cuts those to "NFs" and "LLs", which a redirected
 * output, printing every 2 s, keeps.
 */
export function progressTime(time: number, options: Options, roundToMultipleOf: number): string {
  return Number.isFinite(time) ? Format.TimeFormat(time, options, roundToMultipleOf) : '-';
}
