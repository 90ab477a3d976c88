import { ChainableCommander } from 'ioredis';

/** The replies of a pipeline or MULTI, in order; throws the first error (exec() resolves with them as [error, reply] pairs). */
export async function execAll(pipeline: ChainableCommander): Promise<unknown[]> {
  return ((await pipeline.exec()) ?? []).map(([error, reply]) => {
    if (error) throw error;
    return reply;
  });
}
