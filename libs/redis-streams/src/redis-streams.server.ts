import { isUtf8 } from 'node:buffer';
import { defaultMaxListeners, setMaxListeners } from 'node:events';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CustomTransportStrategy, MessageHandler, Server } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import { FailureStreak } from '@app/logging';
import { closeConnection, disconnectNow, execAll, isReachable, isTransientRedisError, LuaScript, RedisConnection, settlesWhileReachable } from '@app/redis';
import { markSpanFailed, ServiceTracer } from '@app/tracing';
import { capStream } from './cap-stream';
import { HandBackError } from './hand-back-error';
import { describeError, isPermanent, PermanentMessageError } from './permanent-error';
import { RedisStreamsContext } from './redis-streams.context';
import { RefusedData, TAKES_REFUSED_DATA } from './refused-data';
import { StreamEvents } from './stream-events';
import { DATA_NOT_UTF8, decodeMessage, fieldValue, StreamMessage } from './stream-message';
import { DataLimit, UnreadDataError } from './unread-data-error';

const removeIdleConsumers = new LuaScript(join(__dirname, 'lua'), 'remove-idle-consumers-2');

/** Redis's answer to the reads blocked on a master that turns replica: `-UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)`. */
const FAILOVER_UNBLOCK = /UNBLOCKED .*instance state changed/;

/** How often, at most, each instance records its heartbeat and sweeps each stream's group for consumers of stopped instances. */
const CONSUMER_SWEEP_MS = 60_000;

/**
 * The hash of the heartbeats of `group`'s consumers on `stream` (consumer -> ms), in the stream's
 * hash slot, as one script reads both: `<stream>:heartbeats:<group>` when the stream's key has a
 * hash tag (the service streams' `{m<i>}`), else the stream's whole key (without braces) as the tag.
 */
export function consumerHeartbeatsKey(stream: string, group: string): string {
  const tag = /^[^{]*\{([^}]*)\}/.exec(stream);
  return tag && tag[1] !== '' ? `${stream}:heartbeats:${group}` : `{${stream}}:heartbeats:${group}`;
}

/** One stream this service consumes (one per log partition), and where its poison goes. */
export interface ConsumedStream {
  stream: string;
  /** In the stream's hash slot, so a poison move and its ack are one MULTI. */
  poisonStream: string;
}

export interface RedisStreamsServerOptions {
  /**
   * Opens a connection. The server opens one blocking reader per stream (a blocked connection
   * serves nothing else, on a cluster node least of all) and one for everything else.
   */
  connect: (purpose: 'reader' | 'writer') => RedisConnection;
  /** The streams to consume, by partition index. */
  streams: readonly ConsumedStream[];
  /** One consumer group per service: every service sees every message on its streams once. */
  group: string;
  /** One consumer per instance, so a crashed instance's pending messages can be reclaimed. */
  consumer: string;
  batchSize: number;
  blockMs: number;
  /** Messages pending longer than this (their consumer died or their handler failed) are retried. */
  claimIdleMs: number;
  /** After this many deliveries a failing message is moved to the poison stream and acked. */
  maxDeliveries: number;
  /** Upper bound of messages being handled at once by this instance, over all streams. */
  maxInFlight?: number;
  /** Leave acked messages on the stream instead of deleting them with the ack. */
  keepAcked?: boolean;
  /** Handles each message in a span continuing the trace the message carries; absent or disabled: no tracing. */
  tracer?: ServiceTracer;
  /**
   * The most bytes the data of a message from outside the services (a pattern whose handler takes
   * refused data, TAKES_REFUSED_DATA) may hold: larger data is not parsed, and the handler is given
   * RefusedData naming its size and the limit. None: no limit.
   */
  maxOutsideDataBytes?: DataLimit;
  /** Told of poison moves, reclaims and removed consumers (the service's metrics). */
  events?: StreamEvents;
  /**
   * How often, at most, this instance records its heartbeat and sweeps the group for consumers of
   * stopped instances; default a minute. It does so at least every quarter of the time after which
   * a consumer counts as stopped (2 × claimIdleMs, at least 10 × blockMs), so a live one never does.
   */
  consumerSweepMs?: number;
  /**
   * What the poison stream keeps of a failed message's fields; default all of them, as sent. A
   * service whose messages carry data that must not be kept in plain (the intake's submissions
   * hold guests' data) strips it here: the poison stream keeps a message until it is trimmed
   * (poisonMaxLen) or someone deletes it.
   */
  poisonFields?: (fields: string[]) => string[];
  /** Entries the poison stream keeps, the newest (see capStream); 0 or absent: every one. */
  poisonMaxLen?: number;
}

interface Delivery {
  id: string;
  fields: string[];
  deliveries: number;
}

type RawEntry = [id: string, fields: string[] | null];

/** One row of XPENDING's extended form. */
type PendingRow = [id: string, consumer: string, idleMs: number, deliveries: number];

/** The state of one consumed stream. */
interface Lane extends ConsumedStream {
  partition: number;
  /** The heartbeats of the group's consumers on this stream (consumerHeartbeatsKey). */
  heartbeats: string;
  reader: RedisConnection;
  readLoop: Promise<void>;
  inFlightIds: Set<string>;
  pendingAcks: string[];
  pendingPoison: { id: string; fields: string[]; reason: string; deliveries: number }[];
  flushing: Promise<void> | null;
  /** The failures of each loop on this stream (reads, reclaims, touches, consumer sweeps), each logged once per outage. */
  readFailures: FailureStreak;
  reclaimFailures: FailureStreak;
  touchFailures: FailureStreak;
  sweepFailures: FailureStreak;
}

/**
 * A Nest microservice transport on Redis Streams consumer groups. A message is acked only after
 * its handler succeeded; a failed one stays pending and is reclaimed (XAUTOCLAIM) after
 * `claimIdleMs`, until `maxDeliveries`, then it moves to the poison stream with its error.
 */
export class RedisStreamsServer extends Server implements CustomTransportStrategy {
  private writer: RedisConnection;
  private lanes: Lane[] = [];
  private running = false;
  /** False once stopReading() was called: the loops take no new messages, handlers in flight go on. */
  private reading = true;
  /** Aborted with `reading`: a read loop's backoff after a failed read ends with it. */
  private readonly readingStopped = new AbortController();
  private reclaimTimer: NodeJS.Timeout | undefined;
  private reclaiming: Promise<void> = Promise.resolve();
  private lastConsumerSweep = Date.now();
  private inFlight = 0;
  private slotWaiters: (() => void)[] = [];
  private readonly handlers = new Map<string, MessageHandler>();

  /** Null when tracing is off, so the message path tests one field. */
  private readonly tracer: ServiceTracer | null;

  constructor(private readonly options: RedisStreamsServerOptions) {
    super();
    this.tracer = options.tracer?.enabled ? options.tracer : null;
  }

  private get maxInFlight(): number {
    return this.options.maxInFlight ?? this.options.batchSize * 2;
  }

  async listen(callback: (error?: unknown) => void): Promise<void> {
    try {
      this.writer = this.options.connect('writer');
      this.lanes = this.options.streams.map((consumed, partition) => ({
        ...consumed,
        partition,
        heartbeats: consumerHeartbeatsKey(consumed.stream, this.options.group),
        reader: this.options.connect('reader'),
        readLoop: Promise.resolve(),
        inFlightIds: new Set<string>(),
        pendingAcks: [],
        pendingPoison: [],
        flushing: null,
        readFailures: this.failureStreak(`reading ${consumed.stream}`, 'error'),
        reclaimFailures: this.failureStreak(`reclaiming on ${consumed.stream}`, 'error'),
        touchFailures: this.failureStreak(`touching messages on ${consumed.stream}`, 'warn'),
        sweepFailures: this.failureStreak(`removing idle consumers of ${consumed.stream}`, 'warn'),
      }));
      // Each lane's backoff listens on it: one listener per stream, none leaked.
      setMaxListeners(Math.max(defaultMaxListeners, this.lanes.length), this.readingStopped.signal);
      await Promise.all(this.lanes.map((lane) => this.ensureGroup(lane)));
      this.running = true;
      await this.sweepConsumers();
      for (const lane of this.lanes) lane.readLoop = this.readForever(lane);
      const every = Math.max(50, Math.min(5_000, Math.floor(this.options.claimIdleMs / 2)));
      this.reclaimTimer = setInterval(() => {
        // Once it stops reading it reclaims nothing more, but keeps touching what it still handles,
        // and its heartbeat goes on until close() has drained it.
        this.reclaiming = this.reclaiming
          .then(() => (this.running && this.reading ? this.reclaimAll() : this.touchAll()))
          .then(() => (Date.now() - this.lastConsumerSweep >= this.consumerSweepMs ? this.sweepConsumers() : undefined));
      }, every);
      callback();
    } catch (error) {
      callback(error);
    }
  }

  /**
   * Takes no new messages from now on (a blocking read in progress still delivers what it gets);
   * the messages in hand are handled and acked as usual. Resolves when every read loop has ended.
   * A read waiting for Redis (an outage) waits no longer: its reader is ended, which fails it.
   */
  async stopReading(): Promise<void> {
    this.reading = false;
    this.readingStopped.abort();
    // Loops parked for a free slot would otherwise wait for a handler to finish.
    for (const wake of this.slotWaiters.splice(0)) wake();
    await Promise.all(this.lanes.map((lane) => this.readLoopEnded(lane)));
  }

  /**
   * Stops reading, lets in-flight handlers finish, acks what they finished, then disconnects. The
   * messages still being handled are touched meanwhile: a drain longer than claimIdleMs (a judge's
   * LLM call) let another instance reclaim them and handle them a second time. While Redis is lost
   * (or once it is, during the drain) it waits no longer: the handlers could not record their work
   * nor this instance ack it, so what is left stays pending and is reclaimed, as after a crash.
   */
  async close(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await this.stopReading();
    let abandoned = false;
    const drained = (async () => {
      while (this.inFlight > 0) await this.waitForSlot();
      clearInterval(this.reclaimTimer);
      await this.reclaiming;
      // Checked here too, not only by the wait below: with Redis already lost that wait's answer can
      // come after this point, and the writes would fail (and log) after close() returned.
      if (abandoned || !isReachable(this.writer)) return;
      await Promise.all(this.lanes.map((lane) => this.flush(lane)));
      if (abandoned) return;
      // This instance's consumer leaves its groups, unless it still holds messages for another instance to reclaim; its heartbeat goes.
      await Promise.all(this.lanes.map((lane) => this.removeConsumers(lane, 0, this.options.consumer, '')));
    })();
    if (!(await settlesWhileReachable(this.writer, drained))) {
      abandoned = true;
      clearInterval(this.reclaimTimer);
      this.logger.warn(
        `Redis is unreachable: closing without waiting for it; ${this.inFlight} messages in hand and those not acked stay pending, to be reclaimed`,
      );
    }
    await Promise.all([...this.lanes.map((lane) => closeConnection(lane.reader)), closeConnection(this.writer)]);
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

  /**
   * The failures of one of a lane's loops, which retry while Redis is out: a line for every retry
   * was one per stream and loop every few seconds for as long as an outage lasted. The first
   * failure is logged at `level`, another error too, and the recovery says how many failed.
   */
  private failureStreak(what: string, level: 'error' | 'warn'): FailureStreak {
    return new FailureStreak({
      failing: (error) => this.logger[level](`${what} failed: ${describeError(error)}`),
      recovered: (failures, forMs) => this.logger.log(`${what} works again, after ${failures} failures in ${forMs} ms`),
    });
  }

  private async ensureGroup(lane: Lane): Promise<void> {
    try {
      await this.writer.xgroup('CREATE', lane.stream, this.options.group, '0', 'MKSTREAM');
    } catch (error) {
      if (!String(error).includes('BUSYGROUP')) throw error;
    }
  }

  /**
   * Waits for the lane's read loop to end; when Redis is lost (at once or meanwhile), ends its
   * reader first: a read queued for the reconnect, or sent before the drop, waits as long as the outage.
   */
  private async readLoopEnded(lane: Lane): Promise<void> {
    if (await settlesWhileReachable(lane.reader, lane.readLoop)) return;
    // A read that Redis answered but whose reply is lost leaves its messages pending, for a reclaim.
    disconnectNow(lane.reader);
    await lane.readLoop;
  }

  private async readForever(lane: Lane): Promise<void> {
    let failures = 0;
    while (this.running && this.reading) {
      if (this.inFlight >= this.maxInFlight) {
        await this.waitForSlot();
        continue;
      }
      try {
        const count = Math.min(this.options.batchSize, this.maxInFlight - this.inFlight);
        const reply = (await lane.reader.xreadgroup(
          'GROUP',
          this.options.group,
          this.options.consumer,
          'COUNT',
          count,
          'BLOCK',
          this.options.blockMs,
          'STREAMS',
          lane.stream,
          '>',
        )) as [string, RawEntry[]][] | null;
        failures = 0;
        lane.readFailures.succeeded();
        if (!reply) continue;
        for (const [id, fields] of reply[0][1]) {
          if (fields) this.start(lane, { id, fields, deliveries: 1 });
        }
      } catch (error) {
        if (!this.running || !this.reading) break;
        // A master that turns replica (a failover, CLUSTER FAILOVER) unblocks its blocked reads;
        // the group is still there, on the new master, where a Cluster client's next read goes.
        if (FAILOVER_UNBLOCK.test(String(error))) {
          this.logger.log(`the read of ${lane.stream} was unblocked by a failover (this Redis turned replica); reading again`);
          continue;
        }
        // Any other UNBLOCKED: the stream was deleted under a blocked read (a purge, or the whole database emptied); the next read would say NOGROUP.
        if (/NOGROUP|UNBLOCKED/.test(String(error))) {
          this.logger.warn(`consumer group ${this.options.group} on ${lane.stream} is gone (Redis restarted?); recreating it`);
          await this.ensureGroup(lane).catch(() => undefined);
          continue;
        }
        failures += 1;
        lane.readFailures.failed(error);
        await sleep(Math.min(100 * 2 ** failures, 5_000), undefined, { signal: this.readingStopped.signal }).catch(() => undefined);
      }
    }
  }

  private async touchAll(): Promise<void> {
    for (const lane of this.lanes) {
      await this.touchInFlight(lane).then(
        () => lane.touchFailures.succeeded(),
        (error: unknown) => lane.touchFailures.failed(error),
      );
    }
  }

  private async reclaimAll(): Promise<void> {
    for (const lane of this.lanes) await this.reclaim(lane);
  }

  /**
   * A consumer whose heartbeat is this old counts as stopped: well past the time after which its
   * messages are reclaimed, and at least twice the longest gap between two heartbeats of a live
   * one (consumerSweepMs, at most a quarter of this, plus one reclaim round, at most claimIdleMs / 2).
   */
  private get stoppedAfterMs(): number {
    return Math.max(2 * this.options.claimIdleMs, 10 * this.options.blockMs);
  }

  private get consumerSweepMs(): number {
    return Math.min(this.options.consumerSweepMs ?? CONSUMER_SWEEP_MS, Math.floor(this.stoppedAfterMs / 4));
  }

  /** Records this instance's heartbeat on every stream, and removes the consumers of stopped instances there. */
  private async sweepConsumers(): Promise<void> {
    this.lastConsumerSweep = Date.now();
    for (const lane of this.lanes) await this.removeConsumers(lane, this.stoppedAfterMs, '', this.options.consumer);
  }

  /**
   * Sets `beat`'s heartbeat (unless ''), then removes the group's consumers that hold nothing and
   * whose heartbeat (idle time, without one) is `stoppedAfterMs` old (remove-idle-consumers-2.lua);
   * `only` names one, and drops its heartbeat.
   */
  private async removeConsumers(lane: Lane, stoppedAfterMs: number, only: string, beat: string): Promise<void> {
    try {
      const removed = (await removeIdleConsumers.run(this.writer, [lane.stream, lane.heartbeats], [this.options.group, stoppedAfterMs, only, beat])) as number;
      if (removed > 0) this.options.events?.consumersRemoved(lane.stream, removed);
      lane.sweepFailures.succeeded();
    } catch (error) {
      lane.sweepFailures.failed(error);
    }
  }

  /** Takes over messages that have been pending too long: a dead consumer's, or ones whose handler failed. */
  private async reclaim(lane: Lane): Promise<void> {
    if (!this.running || !this.reading) return;
    try {
      await this.touchInFlight(lane);
      let cursor = '0-0';
      do {
        const room = this.maxInFlight - this.inFlight;
        if (room <= 0) break;
        const [next, entries, deleted] = (await this.writer.xautoclaim(
          lane.stream,
          this.options.group,
          this.options.consumer,
          this.options.claimIdleMs,
          cursor,
          'COUNT',
          Math.min(room, this.options.batchSize),
        )) as [string, RawEntry[], string[]];
        cursor = next;
        if (deleted?.length) await this.writer.xack(lane.stream, this.options.group, ...deleted);
        const live = entries.filter((entry): entry is [string, string[]] => entry[1] !== null);
        if (live.length === 0) continue;
        const ids = live.map(([id]) => id);
        const counts = await this.deliveryCounts(lane, ids);
        let reclaimed = 0;
        for (const [id, fields] of live) {
          const deliveries = counts.get(id);
          // No longer pending: its previous owner, slower than its touches, acked it after the claim. Done, not ours.
          if (lane.inFlightIds.has(id) || deliveries === undefined) continue;
          this.start(lane, { id, fields, deliveries });
          reclaimed += 1;
        }
        if (reclaimed > 0) this.options.events?.reclaimed(lane.stream, reclaimed);
      } while (cursor !== '0-0' && this.running);
      lane.reclaimFailures.succeeded();
    } catch (error) {
      if (String(error).includes('NOGROUP')) await this.ensureGroup(lane).catch(() => undefined);
      else if (this.running) lane.reclaimFailures.failed(error);
    }
  }

  /**
   * Resets the idle time of messages still being handled here, so that a slow handler is not
   * mistaken for a dead consumer; only a consumer that stops touching its messages loses them.
   */
  private async touchInFlight(lane: Lane): Promise<void> {
    if (lane.inFlightIds.size === 0) return;
    await this.writer.xclaim(lane.stream, this.options.group, this.options.consumer, 0, ...lane.inFlightIds, 'JUSTID');
  }

  /**
   * The delivery count of each reclaimed message (XAUTOCLAIM does not say), from one XPENDING over
   * their range. That range also lists this consumer's other messages in it (in flight, handed back,
   * finished but not yet acked), which count against its row cap: a reclaimed message left out was
   * taken for its last delivery and poisoned at its first failure. Those left out are read by id.
   */
  private async deliveryCounts(lane: Lane, ids: string[]): Promise<Map<string, number>> {
    const { group, consumer, batchSize } = this.options;
    const rows = (await this.writer.xpending(lane.stream, group, ids[0], ids[ids.length - 1], batchSize * 4, consumer)) as PendingRow[];
    const counts = new Map(rows.map(([id, , , deliveries]) => [id, deliveries]));
    const missing = ids.filter((id) => !counts.has(id));
    if (missing.length === 0) return counts;
    const pipeline = this.writer.pipeline();
    for (const id of missing) pipeline.xpending(lane.stream, group, id, id, 1);
    for (const exact of (await execAll(pipeline)) as PendingRow[][]) {
      for (const [id, , , deliveries] of exact) counts.set(id, deliveries);
    }
    return counts;
  }

  private start(lane: Lane, delivery: Delivery): void {
    this.inFlight += 1;
    lane.inFlightIds.add(delivery.id);
    void this.handle(lane, delivery).finally(() => {
      this.inFlight -= 1;
      lane.inFlightIds.delete(delivery.id);
      const waiter = this.slotWaiters.shift();
      if (waiter) waiter();
    });
  }

  /**
   * Nest's lookup tries JSON.parse on every pattern first, and our patterns are plain strings, so
   * each lookup threw and caught an exception. Found handlers are remembered; an unknown pattern
   * (a poison message) is looked up again, so garbage cannot grow the map.
   */
  private handlerFor(pattern: string): MessageHandler | null {
    const known = this.handlers.get(pattern);
    if (known) return known;
    const handler = this.getHandlerByPattern(pattern);
    if (handler) this.handlers.set(pattern, handler);
    return handler;
  }

  private waitForSlot(): Promise<void> {
    return new Promise((resolve) => this.slotWaiters.push(resolve));
  }

  private async handle(lane: Lane, delivery: Delivery): Promise<void> {
    let message: StreamMessage;
    try {
      message = decodeMessage(delivery.id, delivery.fields, (pattern) => this.takesRefusedData(pattern), this.options.maxOutsideDataBytes);
      // ioredis decodes bytes that are not UTF-8 with U+FFFD for each invalid sequence, which a handler
      // would take for text the sender wrote (a title "bad\uFFFD\uFFFDutf8"). Only the data of a message
      // from outside the services is checked, and only data holding U+FFFD is read again as bytes.
      if (this.takesRefusedData(message.pattern) && fieldValue(delivery.fields, 'data')?.includes('\uFFFD') && !(await this.writtenAsUtf8(lane, delivery.id)))
        message = { ...message, data: new RefusedData(DATA_NOT_UTF8) };
    } catch (error) {
      const refused = error instanceof UnreadDataError ? this.refusedFor(error) : null;
      if (!refused) {
        this.failed(lane, delivery, error);
        return;
      }
      message = refused;
    }
    // Tested here, not inside the tracer, so that an untraced message costs no closure.
    if (this.tracer)
      await this.tracer.processMessage(message, lane.stream, this.options.group, delivery.deliveries, () => this.process(lane, delivery, message));
    else await this.process(lane, delivery, message);
  }

  /**
   * Whether the pattern's handler takes refused data (TAKES_REFUSED_DATA): it reads what senders
   * outside the services write (the intake's submissions), so its messages' depth is measured
   * before they are parsed. Another handler's message nested too deep fails in its handler, is
   * retried and poisoned as any failure is (failed() cannot throw).
   */
  private takesRefusedData(pattern: string): boolean {
    const extras: Record<string, unknown> | undefined = this.handlerFor(pattern)?.extras;
    return extras?.takesRefusedData === TAKES_REFUSED_DATA.takesRefusedData;
  }

  /** Whether the entry's data, as bytes, is UTF-8; an entry deleted meanwhile cannot be checked, and counts as not. */
  private async writtenAsUtf8(lane: Lane, id: string): Promise<boolean> {
    const [entry] = await this.writer.xrangeBuffer(lane.stream, id, id);
    const bytes = entry ? fieldValue(entry[1], 'data') : undefined;
    return bytes !== undefined && isUtf8(bytes);
  }

  /** The message to give a handler that takes refused data in place of data it cannot be given; null for any other. */
  private refusedFor(error: UnreadDataError): StreamMessage | null {
    return this.takesRefusedData(error.envelope.pattern) ? { ...error.envelope, data: new RefusedData(error.message) } : null;
  }

  /** Runs the message's handler; acks it when it succeeded. Never rejects: a failure is retried or poisoned. */
  private async process(lane: Lane, delivery: Delivery, message: StreamMessage): Promise<void> {
    try {
      const handler = this.handlerFor(message.pattern);
      if (!handler) throw new PermanentMessageError(`no handler for pattern "${message.pattern}"`);
      const context = new RedisStreamsContext([lane.stream, delivery.id, delivery.deliveries, lane.partition, this.options.maxDeliveries]);
      const result: unknown = await handler(message.data, context);
      await lastValueFrom(this.transformToObservable(result), { defaultValue: undefined });
      lane.pendingAcks.push(delivery.id);
      this.scheduleFlush(lane);
    } catch (error) {
      this.failed(lane, delivery, error);
    }
  }

  /**
   * A failed delivery: moved to the poison stream when retrying cannot help or the deliveries are
   * used up, else left pending for a retry. A handler that failed because Redis refused it (out of
   * memory) or could not be reached says nothing about its message: that one is retried whatever
   * its deliveries, or a good message would be poisoned by the outage, right before memory frees.
   * Never throws: it runs in the catch of process() and
   * handle(), whose promises nothing awaits, so a throw here was an unhandled rejection that
   * stopped the process, and again after every restart, as the message stayed pending.
   */
  private failed(lane: Lane, delivery: Delivery, error: unknown): void {
    const reason = describeError(error);
    if (error instanceof HandBackError) {
      this.logger.log(`message ${delivery.id} on ${lane.stream} handed back (delivery ${delivery.deliveries}): ${reason}`);
      return;
    }
    markSpanFailed(error);
    if (isTransientRedisError(error)) {
      this.logger.warn(
        `message ${delivery.id} on ${lane.stream} failed (delivery ${delivery.deliveries}) as Redis refused or was unreachable, will retry: ${reason}`,
      );
    } else if (isPermanent(error) || delivery.deliveries >= this.options.maxDeliveries) {
      lane.pendingPoison.push({ ...delivery, ...this.poisonEntry(delivery.fields, reason) });
      this.scheduleFlush(lane);
    } else {
      this.logger.warn(`message ${delivery.id} on ${lane.stream} failed (delivery ${delivery.deliveries}), will retry: ${reason}`);
    }
  }

  /**
   * The fields and reason the poison stream keeps of a failed message. When poisonFields throws (the
   * intake's redaction re-serialises the data), the entry keeps its pattern alone and says why: a
   * message that cannot be poisoned as usual is still poisoned and acked, not left pending forever.
   */
  private poisonEntry(fields: string[], reason: string): { fields: string[]; reason: string } {
    if (!this.options.poisonFields) return { fields, reason };
    try {
      return { fields: this.options.poisonFields(fields), reason };
    } catch (error) {
      const pattern = fields.findIndex((value, i) => i % 2 === 0 && value === 'pattern');
      return {
        fields: pattern >= 0 && pattern + 1 < fields.length ? ['pattern', fields[pattern + 1]] : [],
        reason: `${reason}; its other fields are not kept, as keeping them failed: ${describeError(error)}`,
      };
    }
  }

  private scheduleFlush(lane: Lane): void {
    if (lane.flushing) return;
    lane.flushing = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.flushNow(lane));
  }

  private async flush(lane: Lane): Promise<void> {
    while (lane.flushing) await lane.flushing;
    if (lane.pendingAcks.length || lane.pendingPoison.length) await this.flushNow(lane);
  }

  /** Acks and deletes finished messages and moves poison ones, in one MULTI per flush. */
  private async flushNow(lane: Lane): Promise<void> {
    const acks = lane.pendingAcks;
    const poison = lane.pendingPoison;
    lane.pendingAcks = [];
    lane.pendingPoison = [];
    try {
      const multi = this.writer.multi();
      for (const p of poison) {
        multi.xadd(
          lane.poisonStream,
          ...capStream(this.options.poisonMaxLen ?? 0),
          '*',
          'source',
          lane.stream,
          'messageId',
          p.id,
          'reason',
          p.reason,
          'deliveries',
          String(p.deliveries),
          'failedAt',
          new Date().toISOString(),
          ...p.fields,
        );
      }
      const ids = [...acks, ...poison.map((p) => p.id)];
      if (ids.length) {
        multi.xack(lane.stream, this.options.group, ...ids);
        // Each stream has one consumer group (its service): a message it acked is needed by no one.
        if (!this.options.keepAcked) multi.xdel(lane.stream, ...ids);
      }
      await execAll(multi);
      // Only now: a move that failed (Redis out of memory) moved nothing, and the message is delivered again.
      for (const p of poison) this.logger.warn(`message ${p.id} on ${lane.stream} moved to ${lane.poisonStream}: ${p.reason}`);
      if (poison.length) this.options.events?.poisoned(lane.stream, poison.length);
    } catch (error) {
      // Unacked messages are redelivered later; handlers are idempotent, so nothing is lost or doubled.
      this.logger.error(`acking ${acks.length + poison.length} messages on ${lane.stream} failed: ${describeError(error)}`);
    } finally {
      lane.flushing = null;
      if (lane.pendingAcks.length || lane.pendingPoison.length) this.scheduleFlush(lane);
    }
  }
}
