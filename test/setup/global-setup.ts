import './path-aliases';
import * as path from 'node:path';
import { resolveRedis, ResolvedRedis } from '@app/redis';

/** Shared with global-teardown, which runs in the same process. */
export const TEST_REDIS_GLOBAL_KEY = '__brainTestRedis';
export type GlobalWithTestRedis = typeof globalThis & { [TEST_REDIS_GLOBAL_KEY]?: ResolvedRedis };

/**
 * One Redis for the whole run: workers are forked after this, so they inherit REDIS_URL.
 * Tests isolate themselves by key prefix (@app/testing), never by flushing a shared server.
 */
export default async function globalSetup(): Promise<void> {
  const repoRoot = path.resolve(__dirname, '..', '..');
  const redis = await resolveRedis({
    dataDir: path.join(repoRoot, '.data', 'test'),
    allowInstall: true,
    log: (line) => process.stderr.write(`[test redis] ${line}\n`),
  });
  process.env.REDIS_URL = redis.url;
  (globalThis as GlobalWithTestRedis)[TEST_REDIS_GLOBAL_KEY] = redis;
}
