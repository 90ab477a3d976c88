import { ReplyError } from 'ioredis';

/** A MULTI whose queued commands were refused: ioredis keeps the refusals in `previousErrors`. */
const EXEC_ABORT_REPLY = /^EXECABORT /;

/**
 * Whether `test` holds for a reply of Redis that is the error or one it was caused by (down to five
 * causes deep), or for the refusal of a command queued in a MULTI that Redis discarded for it.
 */
export function someReplyCause(error: unknown, test: (reply: Error) => boolean): boolean {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 5; cause = cause.cause, depth++) {
    if (!(cause instanceof ReplyError)) continue;
    if (test(cause)) return true;
    const previous = (cause as { previousErrors?: unknown }).previousErrors;
    if (EXEC_ABORT_REPLY.test(cause.message) && Array.isArray(previous) && previous.some((queued) => someReplyCause(queued, test))) return true;
  }
  return false;
}
