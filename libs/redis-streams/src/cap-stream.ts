/**
 * The XADD arguments that keep a stream at its newest `maxLen` entries (`MAXLEN n`, exact: these
 * streams take failures, a trickle, so the exact trim costs nothing that matters); none for 0,
 * which keeps every entry. For the streams that only the services write and nobody consumes, the
 * poison and rejected-submission streams: without a bound, a sender that keeps failing fills Redis.
 */
export function capStream(maxLen: number): string[] {
  return maxLen > 0 ? ['MAXLEN', String(maxLen)] : [];
}
