import { once } from 'node:events';
import { createServer } from 'node:net';
import { findFreePort, findFreePorts, portIsFree } from './free-port';

/** Linux's default ephemeral range starts here: outgoing connections take their local ports above it. */
const EPHEMERAL_FIRST = 32_768;

describe('free ports', () => {
  it('given a free port is asked for, then it lies below the ephemeral range and can be listened on', async () => {
    for (let draw = 0; draw < 20; draw++) {
      const port = await findFreePort();
      expect(port).toBeGreaterThanOrEqual(1_024);
      expect(port).toBeLessThan(EPHEMERAL_FIRST);
      expect(await portIsFree(port)).toBe(true);
    }
  });

  it('given a port someone listens on, then it is not free', async () => {
    const holder = createServer();
    holder.listen(await findFreePort());
    await once(holder, 'listening');
    try {
      const address = holder.address();
      if (typeof address !== 'object' || !address) throw new Error('no address');
      expect(await portIsFree(address.port)).toBe(false);
    } finally {
      holder.close();
    }
  });

  it('given several names, then each gets its own port', async () => {
    const ports = await findFreePorts(['a', 'b', 'c', 'd', 'e']);
    expect(new Set(Object.values(ports)).size).toBe(5);
  });
});
