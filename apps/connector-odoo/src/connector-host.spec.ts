import { getEventListeners } from 'node:events';
import { PinoLogger } from 'nestjs-pino';
import { Environment } from '@app/config';
import { KeyLayout } from '@app/event-store';
import { deleteKeysByPrefix, testKeyPrefix, testRedisConnection } from '@app/testing';
import { ConnectorHost } from './connector-host';
import { ConnectorKeys } from './connector-keys';
import { ConnectorMetrics } from './connector-metrics';
import { OdooMissionIdentity } from './odoo-mission-identity';
import { OdooPoller } from './odoo-poller';
import { OdooWriteBack } from './odoo-write-back';

describe('ConnectorHost (real Redis)', () => {
  const redis = testRedisConnection('connector-host-spec');
  const logKeys = new KeyLayout(testKeyPrefix('connector-host'));

  afterAll(async () => {
    await deleteKeysByPrefix(redis, logKeys.prefix);
    await redis.quit();
  });

  it('given many polls, when each wait ends by its timer, then no abort listener is left behind on the pause signal', async () => {
    const POLLS = 15;
    let polls = 0;
    let reached: () => void = () => undefined;
    const enough = new Promise<void>((resolve) => (reached = resolve));
    // Another instance's turn every time: the loop only polls and waits.
    const poller = {
      poll: async () => {
        if (++polls === POLLS) reached();
        return null;
      },
    };
    const writeBack = { start: () => undefined, stop: async () => undefined };
    const env = { ODOO_POLL_MS: 1, ODOO_BACKOFF_MS: 1 } as Environment;
    const logger = { warn: () => undefined } as unknown as PinoLogger;
    const host = new ConnectorHost(
      redis,
      env,
      logKeys,
      new ConnectorKeys(logKeys),
      poller as unknown as OdooPoller,
      writeBack as unknown as OdooWriteBack,
      {} as ConnectorMetrics,
      new OdooMissionIdentity('test-odoo-api-key'),
      logger,
    );
    host.onApplicationBootstrap();
    await enough;
    // Each wait added a listener it never removed: one per poll, and Node warned after ten.
    const listeners = getEventListeners(host['pause'].signal, 'abort').length;
    await host.onModuleDestroy();
    expect(listeners).toBeLessThanOrEqual(1);
  });
});
