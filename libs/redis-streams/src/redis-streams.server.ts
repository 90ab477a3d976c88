import { CustomTransportStrategy, Server } from '@nestjs/microservices';
import Redis from 'ioredis';
import { lastValueFrom } from 'rxjs';
import { describeError, isPermanent, PermanentMessageError } from './permanent-error';
import { RedisStreamsContext } from './redis-streams.context';
import { decodeMessage } from './stream-message';

export interface RedisStreamsServerOptions {
  /** Opens a connection; the server opens one blocking reader and one for everything else. */
  connect: (purpose: 'reader' | 'writer') => Redis;
  stream: string;
  /** One consumer group per service: every service sees every message on its stream once. */
  group: string;
  /** One consumer per instance, so a crashed instance's pending messages can be reclaimed. */
  consumer: string;
  poisonStream: string;
  batchSize: number;
  blockMs: number;
  /** Messages pending longer than this (their consumer died or their handler failed) are retried. */
  claimIdleMs: number;
  /** After this many deliveries a failing message is moved to the poison stream and acked. */
  maxDeliveries: number;
  /** Upper bound of messages being handled at once by this instance. */
  maxInFlight?: number;
}

interface Delivery {
  id: string;
  fields: string[];
  deliveries: number;
}

type RawEntry = [id: string, fields: string[] | null];

/**
 * A Nest microservice transport on Redis Streams consumer groups. A message is acked only after
 * its handler succeeded; a failed one stays pending and is reclaimed (XAUTOCLAIM) after
 * `claimIdleMs`, until `maxDeliveries`, then it moves to the poison stream with its error.
 */
export class RedisStreamsServer extends Server implements CustomTransportStrategy {
  private reader: Redis;
  private writer: Redis;
  private running = false;
  private readLoop: Promise<void> = Promise.resolve();
  private reclaimTimer: NodeJS.Timeout | undefined;
  private reclaiming: Promise<void> = Promise.resolve();
  private inFlight = 0;
  private readonly inFlightIds = new Set<string>();
  private slotWaiters: (() => void)[] = [];
  private pendingAcks: string[] = [];
  private pendingPoison: { id: string; fields: string[]; reason: string; deliveries: number }[] = [];
  private flushing: Promise<void> | null = null;

  constructor(private readonly options: RedisStreamsServerOptions) {
    super();
  }

  private get maxInFlight(): number {
    return this.options.maxInFlight ?? this.options.batchSize * 2;
  }

  async listen(callback: (error?: unknown) => void): Promise<void> {
    try {
      this.reader = this.options.connect('reader');
      this.writer = this.options.connect('writer');
      await this.ensureGroup();
      this.running = true;
      this.readLoop = this.readForever();
      const every = Math.max(50, Math.min(5_000, Math.floor(this.options.claimIdleMs / 2)));
      this.reclaimTimer = setInterval(() => {
        this.reclaiming = this.reclaiming.then(() => this.reclaim());
      }, every);
      callback();
    } catch (error) {
      callback(error);
    }
  }

  /** Stops reading, lets in-flight handlers finish, acks what they finished, then disconnects. */
  async close(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    clearInterval(this.reclaimTimer);
    await this.readLoop;
    await this.reclaiming;
    while (this.inFlight > 0) await this.waitForSlot();
    await this.flush();
    await Promise.allSettled([this.reader.quit(), this.writer.quit()]);
  }

  on(): void {
    // Connection events are handled by ioredis' reconnect logic; nothing to subscribe to.
  }

  unwrap<T>(): T {
    return this.writer as T;
  }

  /** Messages currently being handled; health checks and tests read it. */
  get busy(): number {
    return this.inFlight;
  }

  get isRunning(): boolean {
    return this.running;
  }

  private async ensureGroup(): Promise<void> {
    try {
      await this.writer.xgroup('CREATE', this.options.stream, this.options.group, '0', 'MKSTREAM');
    } catch (error) {
      if (!String(error).includes('BUSYGROUP')) throw error;
    }
  }

  private async readForever(): Promise<void> {
    let failures = 0;
    while (this.running) {
      if (this.inFlight >= this.maxInFlight) {
        await this.waitForSlot();
        continue;
      }
      try {
        const count = Math.min(this.options.batchSize, this.maxInFlight - this.inFlight);
        const reply = (await this.reader.xreadgroup(
          'GROUP', this.options.group, this.options.consumer,
          'COUNT', count, 'BLOCK', this.options.blockMs,
          'STREAMS', this.options.stream, '>',
        )) as [string, RawEntry[]][] | null;
        failures = 0;
        if (!reply) continue;
        for (const [id, fields] of reply[0][1]) {
          if (fields) this.start({ id, fields, deliveries: 1 });
        }
      } catch (error) {
        if (!this.running) break;
        if (String(error).includes('NOGROUP')) {
          this.logger.warn(`consumer group ${this.options.group} on ${this.options.stream} is gone (Redis restarted?); recreating it`);
          await this.ensureGroup().catch(() => undefined);
          continue;
        }
        failures += 1;
        this.logger.error(`reading ${this.options.stream} failed: ${describeError(error)}`);
        await new Promise((resolve) => setTimeout(resolve, Math.min(100 * 2 ** failures, 5_000)));
      }
    }
  }

  /** Takes over messages that have been pending too long: a dead consumer's, or ones whose handler failed. */
  private async reclaim(): Promise<void> {
    if (!this.running) return;
    try {
      await this.touchInFlight();
      let cursor = '0-0';
      do {
        const room = this.maxInFlight - this.inFlight;
        if (room <= 0) return;
        const [next, entries, deleted] = (await this.writer.xautoclaim(
          this.options.stream, this.options.group, this.options.consumer,
          this.options.claimIdleMs, cursor, 'COUNT', Math.min(room, this.options.batchSize),
        )) as [string, RawEntry[], string[]];
        cursor = next;
        if (deleted?.length) await this.writer.xack(this.options.stream, this.options.group, ...deleted);
        const live = entries.filter((entry): entry is [string, string[]] => entry[1] !== null);
        if (live.length === 0) continue;
        const counts = await this.deliveryCounts(live[0][0], live[live.length - 1][0]);
        for (const [id, fields] of live) {
          if (!this.inFlightIds.has(id)) this.start({ id, fields, deliveries: counts.get(id) ?? this.options.maxDeliveries });
        }
      } while (cursor !== '0-0' && this.running);
    } catch (error) {
      if (String(error).includes('NOGROUP')) await this.ensureGroup().catch(() => undefined);
      else if (this.running) this.logger.error(`reclaiming on ${this.options.stream} failed: ${describeError(error)}`);
    }
  }

  /**
   * Resets the idle time of messages still being handled here, so that a slow handler is not
   * mistaken for a dead consumer; only a consumer that stops touching its messages loses them.
   */
  private async touchInFlight(): Promise<void> {
    if (this.inFlightIds.size === 0) return;
    await this.writer.xclaim(this.options.stream, this.options.group, this.options.consumer, 0, ...this.inFlightIds, 'JUSTID');
  }

  private async deliveryCounts(from: string, to: string): Promise<Map<string, number>> {
    const rows = (await this.writer.xpending(
      this.options.stream, this.options.group, from, to, this.options.batchSize * 4, this.options.consumer,
    )) as [string, string, number, number][];
    return new Map(rows.map(([id, , , deliveries]) => [id, deliveries]));
  }

  private start(delivery: Delivery): void {
    this.inFlight += 1;
    this.inFlightIds.add(delivery.id);
    void this.handle(delivery).finally(() => {
      this.inFlight -= 1;
      this.inFlightIds.delete(delivery.id);
      const waiter = this.slotWaiters.shift();
      if (waiter) waiter();
    });
  }

  private waitForSlot(): Promise<void> {
    return new Promise((resolve) => this.slotWaiters.push(resolve));
  }

  private async handle(delivery: Delivery): Promise<void> {
    try {
      const message = decodeMessage(delivery.id, delivery.fields);
      const handler = this.getHandlerByPattern(message.pattern);
      if (!handler) throw new PermanentMessageError(`no handler for pattern "${message.pattern}"`);
      const context = new RedisStreamsContext([this.options.stream, delivery.id, delivery.deliveries]);
      const result: unknown = await handler(message.data, context);
      await lastValueFrom(this.transformToObservable(result), { defaultValue: undefined });
      this.pendingAcks.push(delivery.id);
    } catch (error) {
      const reason = describeError(error);
      if (isPermanent(error) || delivery.deliveries >= this.options.maxDeliveries) {
        this.logger.warn(`message ${delivery.id} on ${this.options.stream} moved to ${this.options.poisonStream}: ${reason}`);
        this.pendingPoison.push({ ...delivery, reason });
      } else {
        this.logger.warn(`message ${delivery.id} on ${this.options.stream} failed (delivery ${delivery.deliveries}), will retry: ${reason}`);
        return;
      }
    }
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushing) return;
    this.flushing = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.flushNow());
  }

  private async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.pendingAcks.length || this.pendingPoison.length) await this.flushNow();
  }

  /** Acks finished messages and moves poison ones, in one MULTI per flush. */
  private async flushNow(): Promise<void> {
    const acks = this.pendingAcks;
    const poison = this.pendingPoison;
    this.pendingAcks = [];
    this.pendingPoison = [];
    try {
      const multi = this.writer.multi();
      for (const p of poison) {
        multi.xadd(
          this.options.poisonStream, '*',
          'source', this.options.stream, 'messageId', p.id, 'reason', p.reason,
          'deliveries', String(p.deliveries), 'failedAt', new Date().toISOString(), ...p.fields,
        );
      }
      const ids = [...acks, ...poison.map((p) => p.id)];
      if (ids.length) multi.xack(this.options.stream, this.options.group, ...ids);
      await multi.exec();
    } catch (error) {
      // Unacked messages are redelivered later; handlers are idempotent, so nothing is lost or doubled.
      this.logger.error(`acking ${acks.length + poison.length} messages on ${this.options.stream} failed: ${describeError(error)}`);
    } finally {
      this.flushing = null;
      if (this.pendingAcks.length || this.pendingPoison.length) this.scheduleFlush();
    }
  }
}
