import { ChainableCommander } from 'ioredis';

/** The replies of a pipeline or MULTI, in order; throws the first error (exec() resolves with them as [error, reply] pairs). */
export async function execAll(pipeline: ChainableCommander): Promise<unknown[]> {
  return ((await pipeline.exec()) ?? []).map(([error, reply]) => {
    if (error) throw error;
    return reply;
  });
}

/**
 * Whether Redis refused a command for the type of value its key holds (WRONGTYPE): a key that no
 * code path writes so, changed by hand (a mission's hash replaced by a string).
 */
export function isWrongTypeError(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('WRONGTYPE');
}

/** Stands in execAllKeepingWrongType's replies for a command Redis refused with WRONGTYPE. */
export const WRONG_TYPE_REPLY: unique symbol = Symbol('WRONGTYPE');

/**
 * As execAll, but a command refused with WRONGTYPE gives WRONG_TYPE_REPLY in its place, so that
 * one key of the wrong type is named by whoever reads the replies instead of failing them all.
 */
export async function execAllKeepingWrongType(pipeline: ChainableCommander): Promise<unknown[]> {
  return ((await pipeline.exec()) ?? []).map(([error, reply]) => {
    if (isWrongTypeError(error)) return WRONG_TYPE_REPLY;
    if (error) throw error;
    return reply;
  });
}
