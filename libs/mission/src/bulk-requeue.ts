/**
 * A bulk requeue (`POST /api/dlq/requeue`) looks among the oldest this many dead letters and takes
 * at most this many: the console needs it to say which of the dead letters it shows one would take.
 */
export const BULK_REQUEUE_MAX = 1_000;
