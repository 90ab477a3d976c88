import { redisUrl } from '@app/testing';
import { ReplyDroppingProxy } from './reply-dropping-proxy';

/**
 * A started ReplyDroppingProxy in front of the test Redis that trips on the first `command` (a
 * command name, any case) the client sends: Redis runs it, its reply is withheld, and the sockets
 * are cut after `holdMs`. `sent` resolves when it trips, so a test acts then instead of after a guessed sleep.
 */
export async function proxyTrippingOn(command: string, holdMs: number): Promise<{ proxy: ReplyDroppingProxy; sent: Promise<void> }> {
  const redis = new URL(redisUrl());
  let trip!: () => void;
  const sent = new Promise<void>((resolve) => (trip = resolve));
  const name = new RegExp(`\\b${command}\\b`, 'i');
  const proxy = new ReplyDroppingProxy(
    { host: redis.hostname, port: Number(redis.port || 6379) },
    (chunk) => {
      if (!name.test(chunk)) return null;
      trip();
      return command;
    },
    1,
    holdMs,
  );
  await proxy.start();
  return { proxy, sent };
}
