import type { Redis } from 'ioredis';
import { KeyLayout } from '@app/event-store';
import { masterNodes } from '@app/redis';
import { InProcessSystem } from './in-process-system';

/**
 * The keys under a system's prefix that hold its state, sorted. Rate-limit counters count every
 * request, refused ones too, the orchestrator's nudge markers expire on their own shortly after a
 * create, an intake takes the retention round's turn marker on its own schedule, and every
 * instance stamps its consumers' heartbeats (`<stream>:heartbeats:<group>`) on its sweep's timer,
 * whatever the requests: none is state a refused request could have changed.
 */
export async function stateKeys(system: Pick<InProcessSystem, 'redis' | 'prefix'>): Promise<string[]> {
  const perNode = await Promise.all((await masterNodes(system.redis)).map((node) => nodeStateKeys(node, system.prefix)));
  return perNode.flat().sort();
}

/**
 * Every key that holds state (see stateKeys) with its value, read node by node in two pipelined
 * round trips (types, then values), so a check taken around every request stays quick.
 */
export async function stateSnapshot(system: Pick<InProcessSystem, 'redis' | 'prefix'>): Promise<Record<string, unknown>> {
  const perNode = await Promise.all((await masterNodes(system.redis)).map((node) => nodeSnapshot(node, system.prefix)));
  return Object.fromEntries(perNode.flat().sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

async function nodeStateKeys(node: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 5000);
    cursor = next;
    keys.push(
      ...batch.filter(
        (key) => !key.includes('ratelimit') && !key.includes(':nudge:') && !key.includes(':heartbeats:') && key !== new KeyLayout(prefix).retentionTurn,
      ),
    );
  } while (cursor !== '0');
  return keys;
}

async function nodeSnapshot(node: Redis, prefix: string): Promise<[string, unknown][]> {
  const keys = await nodeStateKeys(node, prefix);
  const types = results(await keys.reduce((pipeline, key) => pipeline.type(key), node.pipeline()).exec()) as string[];
  const reads = keys.reduce((pipeline, key, i) => {
    const type = types[i];
    if (type === 'string') return pipeline.get(key);
    if (type === 'hash') return pipeline.hgetall(key);
    if (type === 'zset') return pipeline.zrange(key, 0, -1, 'WITHSCORES');
    if (type === 'set') return pipeline.smembers(key);
    if (type === 'list') return pipeline.lrange(key, 0, -1);
    if (type === 'stream') return pipeline.xlen(key).xrevrange(key, '+', '-', 'COUNT', 1);
    return pipeline.echo(type);
  }, node.pipeline());
  const values = results(await reads.exec());
  let next = 0;
  return keys.map((key, i) => {
    const type = types[i];
    const value = type === 'stream' ? [values[next++], values[next++]] : values[next++];
    return [key, type === 'set' ? [...(value as string[])].sort() : value];
  });
}

function results(replies: [Error | null, unknown][] | null): unknown[] {
  return (replies ?? []).map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}
