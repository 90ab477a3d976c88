import Redis from 'ioredis';
import { KeyLayout } from '@app/event-store';
import { deleteKeysByPrefix, redisUrl, testKeyPrefix } from '@app/testing';
import { agentSlotViolations } from './support';
it('sampler detects', async () => {
  const redis = new Redis(redisUrl());
  const prefix = testKeyPrefix('faults-selfcheck');
  const keys = new KeyLayout(prefix);
  await redis.hset(keys.agentLoad, 'agent-x', 1, 'agent-y', 0);
  await redis.hset(keys.agentCapacity, 'agent-x', 1, 'agent-y', 1);
  await redis.zadd(keys.missionIndex, 1, 'm1', 2, 'm2');
  await redis.hset(keys.mission('m1'), 'st', 'running', 's', JSON.stringify({ assignedAgentId: 'agent-y', lastError: null, attempts: 1, evaluation: null }));
  await redis.hset(keys.mission('m2'), 'st', 'evaluating', 's', JSON.stringify({ assignedAgentId: 'agent-y', lastError: null, attempts: 1, evaluation: { attempt: 1 } }));
  const found = await agentSlotViolations(redis, keys);
  process.stderr.write(JSON.stringify(found) + '\n');
  expect(found).toEqual(['agent agent-x: load counter 1 but 0 missions hold it', 'agent agent-y: load counter 0 but 1 missions hold it']);
  await deleteKeysByPrefix(redis, prefix);
  redis.disconnect();
});
