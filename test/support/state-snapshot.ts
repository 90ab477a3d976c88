import { masterNodes } from '@app/redis';
import { InProcessSystem } from './in-process-system';

/**
 * The keys under a system's prefix that hold its state, sorted. Rate-limit counters count every
 * request, refused ones too, and the orchestrator's nudge markers expire on their own shortly
 * after a create: neither is state a refused request could have changed.
 */
export async function stateKeys(system: Pick<InProcessSystem, 'redis' | 'prefix'>): Promise<string[]> {
  const keys: string[] = [];
  for (const node of await masterNodes(system.redis)) {
    let cursor = '0';
    do {
      const [next, batch] = await node.scan(cursor, 'MATCH', `${system.prefix}*`, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch.filter((key) => !key.includes('ratelimit') && !key.includes(':nudge:')));
    } while (cursor !== '0');
  }
  return keys.sort();
}
