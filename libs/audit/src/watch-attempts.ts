/**
 * Attempts a recount under WATCH (the status counters, the ready queue's counts) makes before it
 * gives up on keys that never stand still long enough: each attempt that a write meanwhile fails
 * reads them all again. One rule for every such recount.
 */
export const WATCH_ATTEMPTS = 5;
