import { GlobalWithTestRedis, TEST_REDIS_GLOBAL_KEY } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  const holder = globalThis as GlobalWithTestRedis;
  const redis = holder[TEST_REDIS_GLOBAL_KEY];
  delete holder[TEST_REDIS_GLOBAL_KEY];
  await redis?.stop();
}
