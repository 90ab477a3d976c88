import { MissionClient } from '@app/mission-client';
import { RedisConnection } from '@app/redis';
import { ConnectorKeys } from './connector-keys';
import { OdooClient } from './odoo-client';
import { fieldsOf, missionOf, OdooMapping, OdooMappingRule } from './odoo-mapping';

/** Records read per search_read. */
const PAGE = 100;

/**
 * In: reads each rule's records changed after its cursor (`write_date`, then `id`, so records
 * written in the same second are neither skipped nor read twice), turns each new one into a
 * mission and submits it over the intake stream with its Odoo `source`, which the intake
 * de-duplicates. Records taken in before are skipped (a later edit does not make a second mission).
 * Only one instance polls per ODOO_POLL_MS (a Redis lock); a second one that overlaps changes nothing.
 */
export class OdooPoller {
  constructor(
    private readonly odoo: OdooClient,
    private readonly missions: MissionClient,
    private readonly redis: RedisConnection,
    private readonly keys: ConnectorKeys,
    private readonly mapping: OdooMapping,
    private readonly pollMs: number,
  ) {}

  /** One round over every rule; resolves with the missions submitted (0 when another instance holds the round). */
  async poll(): Promise<number> {
    if ((await this.redis.set(this.keys.pollLock, String(process.pid), 'PX', this.pollMs, 'NX')) !== 'OK') return 0;
    let submitted = 0;
    for (const rule of this.mapping.rules) submitted += await this.pollRule(rule);
    return submitted;
  }

  private async pollRule(rule: OdooMappingRule): Promise<number> {
    let submitted = 0;
    for (;;) {
      const cursor = (await this.redis.hget(this.keys.cursors, rule.name)) ?? '';
      const [writeDate, lastId] = cursor ? [cursor.slice(0, cursor.lastIndexOf('|')), Number(cursor.slice(cursor.lastIndexOf('|') + 1))] : ['', 0];
      const after = writeDate ? ['|', ['write_date', '>', writeDate], '&', ['write_date', '=', writeDate], ['id', '>', lastId]] : [];
      const records = await this.odoo.executeKw<(Record<string, unknown> & { id: number; write_date: string })[]>(
        rule.model,
        'search_read',
        [[...after, ...rule.domain]],
        { fields: fieldsOf(rule), order: 'write_date asc, id asc', limit: PAGE },
      );
      if (records.length === 0) return submitted;
      const seen = await this.redis.hmget(this.keys.submitted, ...records.map((record) => `${rule.model}:${record.id}`));
      const fresh = records.filter((_, i) => seen[i] === null);
      if (fresh.length > 0) {
        const ids = await this.missions.createMany(fresh.map((record) => missionOf(this.mapping, rule, record)));
        await this.redis.hset(this.keys.submitted, Object.fromEntries(fresh.map((record, i) => [`${rule.model}:${record.id}`, ids[i]])));
        submitted += fresh.length;
      }
      const last = records[records.length - 1];
      await this.redis.hset(this.keys.cursors, rule.name, `${last.write_date}|${last.id}`);
      if (records.length < PAGE) return submitted;
    }
  }
}
