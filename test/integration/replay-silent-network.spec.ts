import { FreezableProxy, redisUrl, testKeyPrefix } from '@app/testing';
import { CliIo, EXIT_REDIS, EXIT_USAGE, runReplay } from '../../scripts/replay';

/** `replay verify` in-process against `url`, with `env`, its output captured. */
async function verifyAt(url: string, env: CliIo['env']): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const io: CliIo = {
    stdout: { write: () => true },
    stderr: { write: (text: string) => (stderr += text) },
    env: { KEY_PREFIX: testKeyPrefix('replay-silent'), ...env },
  };
  return { code: await runReplay(['--redis-url', url, 'verify'], io), stderr };
}

// A network that drops packets closes no socket: replay waited for Redis' first reply for as long
// as TCP retransmits (about 15 minutes), where the services' connections give up after
// REDIS_LIVENESS_TIMEOUT_MS.
describe('replay over a silent network to Redis', () => {
  const { hostname, port } = new URL(redisUrl());
  const proxy = new FreezableProxy({ host: hostname, port: Number(port || 6379) });

  beforeAll(() => proxy.start());
  afterAll(() => proxy.stop());

  it('given the network frozen, when replay runs, then it fails within REDIS_LIVENESS_TIMEOUT_MS naming Redis, rather than waiting', async () => {
    proxy.freeze();
    try {
      const { code, stderr } = await verifyAt(proxy.url, { REDIS_LIVENESS_TIMEOUT_MS: '1000' });
      expect(code).toBe(EXIT_REDIS);
      expect(stderr).toMatch(/cannot reach Redis at 127\.0\.0\.1:\d+: .*timeout/i);
    } finally {
      proxy.thaw();
    }
  }, 15_000);

  it('given REDIS_LIVENESS_TIMEOUT_MS a service would refuse, when replay runs, then it is refused as a usage error', async () => {
    const { code, stderr } = await verifyAt(proxy.url, { REDIS_LIVENESS_TIMEOUT_MS: 'soon' });
    expect(code).toBe(EXIT_USAGE);
    expect(stderr).toContain('REDIS_LIVENESS_TIMEOUT_MS');
  });
});
