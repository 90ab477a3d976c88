/** One page of a list the API pages by cursor (missions, reviews, dead letters); the console reads it too. */
export interface MissionPage<T> {
  items: T[];
  /** Absent on the last page. */
  nextCursor?: string;
}
