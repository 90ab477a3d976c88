/** One page of a list the API pages by cursor (missions, reviews, dead letters); the console reads it too. */
export interface MissionPage<T> {
  items: T[];
  /** Absent on the last page. */
  nextCursor?: string;
}

/**
 * How many index entries one page request of a mission list reads at most, so a rare filter can't
 * scan the world: a page that stops there comes back short (even empty) with a `nextCursor`. The
 * console says how far a search has gone by it.
 */
export const MAX_SCANNED_PER_PAGE = 5_000;
