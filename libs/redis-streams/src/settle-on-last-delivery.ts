import { isTransientRedisError } from '@app/redis';
import { HandBackError } from './hand-back-error';
import { describeError, isPermanent } from './permanent-error';
import { RedisStreamsContext } from './redis-streams.context';

/**
 * Runs a message's handler. When it fails and the message is about to go to the poison stream
 * (its last delivery, or an error retrying cannot fix), `settle` records why first, so the work
 * the message stood for ends in a recorded state instead of waiting on a message nobody reads
 * (a mission assigned for ever, an agent's slot held). The message is then acked as handled. If
 * `settle` fails too, the handler's own error goes on, to a retry or the poison stream. A failure
 * because Redis refused (out of memory) or was unreachable is never settled: the transport retries
 * its message whatever its deliveries (RedisStreamsServer.failed).
 */
export async function settleOnLastDelivery(
  context: RedisStreamsContext,
  handle: () => Promise<void>,
  settle: (reason: string) => Promise<void>,
): Promise<void> {
  try {
    await handle();
  } catch (error) {
    if (error instanceof HandBackError || isTransientRedisError(error) || !(isPermanent(error) || context.isLastDelivery())) throw error;
    try {
      await settle(`gave up after ${context.getDeliveries()} deliveries: ${describeError(error)}`);
    } catch {
      throw error;
    }
  }
}
