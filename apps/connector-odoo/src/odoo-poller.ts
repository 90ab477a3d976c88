import { SpanKind } from '@opentelemetry/api';
import { validateSubmitMission } from '@app/messages';
import { MissionClient } from '@app/mission-client';
import { RedisConnection } from '@app/redis';
import { annotateSpan, ServiceTracer } from '@app/tracing';
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
 * Instances take turns (a Redis lock held for half of ODOO_POLL_MS); one that overlaps changes nothing.
 * With tracing on, each poll an instance makes is a span that starts a trace, and the missions it
 * submits continue it: their trace begins where Odoo's record came in.
 */
export class OdooPoller {
  constructor(
    private readonly odoo: OdooClient,
    private readonly missions: MissionClient,
    private readonly redis: RedisConnection,
    private readonly keys: ConnectorKeys,
    private readonly mapping: OdooMapping,
    private readonly pollMs: number,
    private readonly tracer: ServiceTracer = new ServiceTracer(null),
  ) {}

  /** One round over every rule; resolves with the missions submitted, or null when it is another instance's turn. */
  async poll(): Promise<number | null> {
    // Held for half a period: instances polling on the same period take turns, and one whose timer
    // fires a little early does not find its own lock still there and skip a whole period.
    if ((await this.redis.set(this.keys.pollLock, String(process.pid), 'PX', Math.max(50, Math.floor(this.pollMs / 2)), 'NX')) !== 'OK') return null;
    // `{}`: no parent, whatever the caller's context; a poll is work of its own.
    return this.tracer.inSpan('poll odoo', {}, SpanKind.INTERNAL, { 'brain.odoo.rules': this.mapping.rules.length }, async () => {
      let submitted = 0;
      for (const rule of this.mapping.rules) submitted += await this.pollRule(rule);
      annotateSpan('brain.odoo.submitted', submitted);
      return submitted;
    });
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
      const fresh = records.filter((_, i) => seen[i] === null).map((record) => ({ record, mission: missionOf(this.mapping, rule, record) }));
      // A record the intake would refuse (no visible title, say) must not hold up the rest: it is
      // set aside with the reason, and taken in again once an edit makes it valid.
      const refused = fresh.map(({ mission }) => validateSubmitMission({ mission })).map((checked) => (checked.ok ? null : checked.problems.join('; ')));
      const valid = fresh.filter((_, i) => refused[i] === null);
      if (refused.some((reason) => reason !== null)) {
        await this.redis.hset(
          this.keys.refused,
          Object.fromEntries(fresh.flatMap(({ record }, i) => (refused[i] === null ? [] : [[`${rule.model}:${record.id}`, refused[i]]]))),
        );
      }
      if (valid.length > 0) {
        const ids = await this.missions.createMany(valid.map(({ mission }) => mission));
        await this.redis.hset(this.keys.submitted, Object.fromEntries(valid.map(({ record }, i) => [`${rule.model}:${record.id}`, ids[i]])));
        await this.redis.hdel(this.keys.refused, ...valid.map(({ record }) => `${rule.model}:${record.id}`));
        submitted += valid.length;
      }
      const last = records[records.length - 1];
      await this.redis.hset(this.keys.cursors, rule.name, `${last.write_date}|${last.id}`);
      if (records.length < PAGE) return submitted;
    }
  }
}
