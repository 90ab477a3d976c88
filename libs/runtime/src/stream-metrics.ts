import { Counter, Gauge, Registry } from 'prom-client';
import { KeyLayout } from '@app/event-store';
import { ServiceName } from '@app/messages';
import { RedisConnection } from '@app/redis';
import { StreamEvents } from '@app/redis-streams';

/** One consumed stream's state, as its consumer group sees it. */
interface StreamHealth {
  stream: string;
  length: number;
  pending: number;
  lag: number;
  consumers: number;
  oldestPendingAgeSeconds: number;
}

/** A scrape reads each figure through its own gauge; they share one read of Redis in this window. */
const READ_REUSE_MS = 1_000;

/**
 * The health of the streams one service consumes (one per log partition), in /metrics: gauges read
 * from Redis at scrape time (the consumer group is the service's, so every instance of it reports
 * the same values: take max, not sum), and counters of what this instance's consumer did. The
 * `stream` label is the stream's key without KEY_PREFIX, e.g. `{m0}:stream:executor`.
 */
export class StreamMetrics implements StreamEvents {
  private readonly poisonedTotal: Counter<'stream'>;
  private readonly reclaimedTotal: Counter<'stream'>;
  private readonly consumersRemovedTotal: Counter<'stream'>;
  private readonly rejectedTotal: Counter<'stream'>;
  private reading: { at: number; health: Promise<StreamHealth[]> } | null = null;

  constructor(
    registry: Registry,
    private readonly redis: RedisConnection,
    private readonly keys: KeyLayout,
    private readonly group: ServiceName,
  ) {
    const counter = (name: string, help: string) => new Counter({ name, help, labelNames: ['stream'], registers: [registry] });
    this.poisonedTotal = counter(
      'brain_stream_poisoned_total',
      'Messages this instance moved to the poison stream (failed for good, or STREAM_MAX_DELIVERIES times)',
    );
    this.reclaimedTotal = counter(
      'brain_stream_reclaimed_total',
      'Messages this instance took over after they were pending STREAM_CLAIM_IDLE_MS (a stopped consumer, a failed handler)',
    );
    this.consumersRemovedTotal = counter('brain_stream_consumers_removed_total', 'Consumers of stopped instances this instance removed from the group');
    this.rejectedTotal = counter(
      'brain_stream_rejected_total',
      'Submissions this instance moved to the rejected stream (intake: invalid or refused mission.submit)',
    );
    // Every series from 0: a labelled counter that first appears at 1 is invisible to increase(), so
    // an alert on it (BrainPoisonMessages, BrainRejectedSubmissions) missed each instance's first event.
    for (const partition of keys.partitions) {
      const stream = { stream: this.label(partition.stream(group)) };
      for (const counted of [this.poisonedTotal, this.reclaimedTotal, this.consumersRemovedTotal]) counted.inc(stream, 0);
      if (group === 'intake') this.rejectedTotal.inc(stream, 0);
    }
    const gauge = (name: string, help: string, figure: (health: StreamHealth) => number) => {
      const read = () => this.health();
      new Gauge({
        name,
        help,
        labelNames: ['stream'],
        registers: [registry],
        async collect() {
          this.reset();
          for (const health of await read()) this.set({ stream: health.stream }, figure(health));
        },
      });
    };
    gauge('brain_stream_length', 'Entries on the stream: not yet delivered, or delivered and not yet acked', (h) => h.length);
    gauge('brain_stream_pending_messages', "Messages delivered to the service's group and not yet acked", (h) => h.pending);
    gauge('brain_stream_lag_messages', "Messages on the stream not yet delivered to the service's group", (h) => h.lag);
    gauge('brain_stream_oldest_pending_age_seconds', 'Age of the oldest delivered, unacked message (0 when none)', (h) => h.oldestPendingAgeSeconds);
    gauge('brain_stream_consumers', "Consumers in the service's group (one per running instance, and stopped ones not yet removed)", (h) => h.consumers);
  }

  poisoned(stream: string, count: number): void {
    this.poisonedTotal.inc({ stream: this.label(stream) }, count);
  }

  reclaimed(stream: string, count: number): void {
    this.reclaimedTotal.inc({ stream: this.label(stream) }, count);
  }

  consumersRemoved(stream: string, count: number): void {
    this.consumersRemovedTotal.inc({ stream: this.label(stream) }, count);
  }

  rejected(stream: string): void {
    this.rejectedTotal.inc({ stream: this.label(stream) });
  }

  private label(stream: string): string {
    return stream.startsWith(this.keys.prefix) ? stream.slice(this.keys.prefix.length) : stream;
  }

  private health(): Promise<StreamHealth[]> {
    if (!this.reading || Date.now() - this.reading.at > READ_REUSE_MS) {
      const streams = this.keys.partitions.map((partition) => partition.stream(this.group));
      this.reading = { at: Date.now(), health: Promise.all(streams.map((stream) => this.read(stream))) };
    }
    return this.reading.health;
  }

  private async read(stream: string): Promise<StreamHealth> {
    const [[, length], [groupsError, groups], [pendingError, pending]] = ((await this.redis
      .multi()
      .xlen(stream)
      .xinfo('GROUPS', stream)
      .xpending(stream, this.group)
      .exec()
      .catch(() => null)) ?? [
      [null, 0],
      [null, []],
      [null, null],
    ]) as [[unknown, number], [unknown, unknown[][]], [unknown, [number, string | null, string | null, unknown] | null]];
    const info = groupsError ? undefined : fieldsOf(groups.find((flat) => fieldsOf(flat).name === this.group));
    const count = pendingError || !pending ? 0 : Number(pending[0]);
    const oldest = pendingError || !pending?.[1] ? null : Number(pending[1].split('-')[0]);
    // Redis cannot tell the lag once entries were deleted (acked entries are, by default); then
    // what is on the stream and not pending is what has not been delivered. Nor can the lag it does
    // tell exceed that: an entry not yet delivered is on the stream and not pending. Redis 7.0
    // overstates it after a failover (the promoted replica's entries-read lags behind), so it is
    // capped there.
    const undelivered = Math.max(0, Number(length) - count);
    const lag = info?.lag === null || info?.lag === undefined ? undelivered : Math.min(Number(info.lag), undelivered);
    return {
      stream: this.label(stream),
      length: Number(length ?? 0),
      pending: count,
      lag,
      consumers: Number(info?.consumers ?? 0),
      oldestPendingAgeSeconds: oldest === null ? 0 : Math.max(0, (Date.now() - oldest) / 1000),
    };
  }
}

/** XINFO's flat [name, value, name, value, …] as an object. */
function fieldsOf(flat: unknown[] | undefined): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (let i = 0; flat && i + 1 < flat.length; i += 2) fields[String(flat[i])] = flat[i + 1];
  return fields;
}
