import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { Response } from 'express';
import { Environment } from '@app/config';
import { isUnreadable, KeyLayout, PassedOverMissions, readLogEntry, readMissionStates, UnreadableLogEntry, UnreadableStoredDataError } from '@app/event-store';
import { GuestDataError, MissionPersonalData, WrongMasterKeyError } from '@app/guest-data';
import { MissionEvent, STREAM_CONNECTED_EVENT, STREAM_PING_EVENT, STREAM_UNAVAILABLE_EVENT, UNAVAILABLE_MARKER, unavailableNoticeMessage } from '@app/mission';
import { RedisConnection } from '@app/redis';
import { ENVIRONMENT, REDIS } from '@app/runtime';
import { ApiClient, readsPersonalData, seesMission } from '../auth';
import { logMasterKeyMismatchOnce, toErrorBody } from '../http/error-body.filter';
import { eventWithPersonalFieldsAs, redactedEvent } from '../http/redacted-personal-data';
import { compareEntryIds, formatPosition, LogPosition, sealPosition } from './log-position';
import { lastEntryIds, LogWakeup } from './log-wakeup';
import { matchesFilter, StreamFilter } from './stream-filter';

/** Log entries read per partition per round; with the socket's drain, what one client can hold in memory. */
const ENTRIES_PER_READ = 100;
/** How soon an EventSource reconnects after the connection drops. */
const RETRY_MS = 3_000;

/**
 * Missions a client key's stream remembers as its own or not: who created a mission never
 * changes, so an answer holds for good; past this many the memory starts again, so a stream open
 * for days holds no more than this.
 */
const OWNERSHIP_MEMORY = 10_000;

interface Client {
  response: Response;
  /** The API key the stream was opened with (by header or stream token). */
  caller: ApiClient;
  position: LogPosition;
  /** The `id` a position goes out as: sealed for a client key (sealPosition), else as it is. */
  idOf: (position: LogPosition) => string;
  filter: StreamFilter;
  /** The client's role reads guest data in plain (readsPersonalData); else it gets `[redacted]`. */
  readsPersonalData: boolean;
  /** For a client key: whether each mission met is one it sees (seesMission). */
  sees: Map<string, boolean>;
  /** A round of reads is under way; `again` asks it to read once more when it ends. */
  pumping: boolean;
  again: boolean;
  closed: boolean;
  /** The STREAM_UNAVAILABLE_EVENT messages this client was sent: each once per stream. */
  told: Set<string>;
}

/** An event as a client is shown it, and the STREAM_UNAVAILABLE_EVENT message to send before it, if any. */
interface Shown {
  event: MissionEvent;
  notice?: string;
}

/**
 * Sends mission events from the log to live-stream clients as Server-Sent Events. Each client
 * reads from its own position (see LogPosition) in rounds: read a batch, write it, wait until the
 * socket has taken it, read on. A client that does not take a batch within SSE_SLOW_CLIENT_MS is
 * dropped, so nothing piles up for it.
 */
@Injectable()
export class EventStreamService implements OnModuleDestroy {
  private readonly clients = new Set<Client>();
  /** Open streams per API key name; a key with none is not listed. */
  private readonly clientsPerKey = new Map<string, number>();
  /** Missions whose guest data this process met unopenable on the stream: logged once each. */
  private readonly unreadable = new Set<string>();
  /** Missions whose state cannot be read that client keys' streams passed over: logged once each until read fine, at most MAX_NAMED_PASSED_OVER. */
  private readonly unreadableStates = new PassedOverMissions("a client key's live stream", (message) => this.logger.warn(message));
  /** Log entries whose event cannot be read that this process passed over: logged once each. */
  private readonly unreadableEntries = new Set<string>();
  private readonly logger = new Logger(EventStreamService.name);
  private readonly wakeup: LogWakeup;
  /** The intake is shutting down: its streams have ended, and a new one ends at once. */
  private closing = false;

  constructor(
    @Inject(REDIS) private readonly redis: RedisConnection,
    private readonly keys: KeyLayout,
    @Inject(ENVIRONMENT) private readonly env: Environment,
    private readonly personal: MissionPersonalData,
  ) {
    this.wakeup = new LogWakeup(redis, keys.logStreams);
  }

  get partitions(): number {
    return this.keys.partitions.length;
  }

  /** Why no stream may open for `keyName` now (SSE_MAX_CLIENTS, SSE_MAX_CLIENTS_PER_KEY), or null. */
  refusal(keyName: string): string | null {
    // Shutting down, open() ends the stream at once: a 429 would stop an EventSource for good.
    if (this.closing) return null;
    if (this.clients.size >= this.env.SSE_MAX_CLIENTS) return 'too many open live streams on this intake; retry later';
    if ((this.clientsPerKey.get(keyName) ?? 0) >= this.env.SSE_MAX_CLIENTS_PER_KEY) {
      return 'too many open live streams of this API key on this intake; close one or retry later';
    }
    return null;
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** The position before the first event. */
  get start(): LogPosition {
    return this.keys.partitions.map(() => '0-0');
  }

  /** The position now: a client that starts here gets only the events appended from now on. */
  async now(): Promise<LogPosition> {
    return lastEntryIds(this.redis, this.keys.logStreams);
  }

  /**
   * Streams to `response` until the client goes away or the intake stops; personal fields in plain
   * when the caller's role reads them (readsPersonalData, as for every API response), else
   * `[redacted]`; for a client key, only the events of the missions it sees (seesMission).
   */
  open(response: Response, caller: ApiClient, position: LogPosition, filter: StreamFilter, positionKey?: Buffer): void {
    const keyName = caller.name;
    // A client gone while its position was read: its 'close' came before any listener here could
    // hear it, so a stream opened now would hold a slot, a timer and reads for ever. Or one answered
    // already: a Redis outage outlasted the read (RedisOutageGate), and the 503 was its answer.
    if (response.destroyed || response.writableEnded) return;
    // A stream opened now would hold the shutdown until it is cut. It ends at once instead, telling
    // EventSource when to reconnect: any status but 200 would stop it for good.
    if (this.closing) {
      response.status(200).type('text/event-stream').end(`retry: ${RETRY_MS}\n\n`);
      return;
    }
    const client: Client = {
      response,
      caller,
      position: [...position],
      idOf: positionKey ? (at) => sealPosition(at, positionKey) : formatPosition,
      filter,
      readsPersonalData: readsPersonalData(caller.role),
      sees: new Map(),
      pumping: false,
      again: false,
      closed: false,
      told: new Set(),
    };
    this.clients.add(client);
    this.clientsPerKey.set(keyName, (this.clientsPerKey.get(keyName) ?? 0) + 1);
    response.status(200);
    response.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    response.setHeader('Cache-Control', 'no-cache, no-transform');
    response.setHeader('Connection', 'keep-alive');
    // Proxies such as nginx would otherwise buffer the stream.
    response.setHeader('X-Accel-Buffering', 'no');
    response.flushHeaders();
    response.socket?.setNoDelay(true);
    // The position it starts from, as a message of its own: a client that drops before any event
    // comes resumes from there (EventSource keeps the id; `onmessage` does not see a named event).
    // A ping follows at once, so the client knows the interval before it waits for the next.
    const start = client.idOf(client.position);
    const ping = `event: ${STREAM_PING_EVENT}\ndata: ${this.env.SSE_HEARTBEAT_MS}\n\n`;
    response.write(`retry: ${RETRY_MS}\nevent: ${STREAM_CONNECTED_EVENT}\nid: ${start}\ndata: ${start}\n\n${ping}`);

    const unlisten = this.wakeup.listen(() => this.pump(client));
    // The heartbeat also reads: a wake-up lost while the tail started costs at most one interval.
    const heartbeat = setInterval(() => {
      if (!response.writableNeedDrain) response.write(ping);
      this.pump(client);
    }, this.env.SSE_HEARTBEAT_MS);
    const close = () => {
      if (client.closed) return;
      client.closed = true;
      clearInterval(heartbeat);
      unlisten();
      this.clients.delete(client);
      const left = (this.clientsPerKey.get(keyName) ?? 1) - 1;
      if (left > 0) this.clientsPerKey.set(keyName, left);
      else this.clientsPerKey.delete(keyName);
    };
    response.on('close', close);
    response.on('error', close);
    this.pump(client);
  }

  async onModuleDestroy(): Promise<void> {
    this.closing = true;
    // The HTTP server's close waits for open responses; a stream never ends by itself.
    for (const client of [...this.clients]) client.response.end();
    await this.wakeup.stop();
  }

  private pump(client: Client): void {
    if (client.closed) return;
    if (client.pumping) {
      client.again = true;
      return;
    }
    client.pumping = true;
    void this.readOn(client)
      .catch((error: unknown) => {
        // The client reconnects at its last position and meets the cause again if it lasts: said here, or nowhere.
        this.logger.warn(`live stream of ${client.caller.name} dropped: ${error instanceof Error ? error.message : String(error)}`);
        client.response.destroy();
      })
      .finally(() => {
        client.pumping = false;
      });
  }

  /** Reads and writes rounds until the client has everything in the log (or is gone). */
  private async readOn(client: Client): Promise<void> {
    for (;;) {
      client.again = false;
      const entries = await this.readAfter(client);
      if (client.closed) return;
      if (entries.length === 0) {
        if (!client.again) return;
        continue;
      }
      // Opened or redacted before they go out, as every API response is (PersonalDataInterceptor does the others).
      const matching = await this.passing(client, entries);
      if (client.closed) return;
      const events = entries.flatMap((entry, i) => (matching[i] && entry.event ? [entry.event] : []));
      const shown: Shown[] = client.readsPersonalData ? await this.opened(client, events) : events.map((event) => ({ event: redactedEvent(event) }));
      let chunk = '';
      let next = 0;
      entries.forEach((entry, i) => {
        client.position[entry.partition] = entry.id;
        if (!matching[i]) return;
        const { event, notice } = shown[next++];
        chunk += `${notice ?? ''}id: ${client.idOf(client.position)}\ndata: ${JSON.stringify(event)}\n\n`;
      });
      if (chunk !== '' && !client.response.write(chunk)) await this.drained(client);
    }
  }

  /**
   * Which entries the client is shown: those its filter lets through and, for a client key, only of
   * the missions it sees (seesMission), read from their states, so another's mission is as silent
   * on its stream as one that does not exist. Every other role sees every mission.
   */
  private async passing(client: Client, entries: readonly { event?: MissionEvent }[]): Promise<boolean[]> {
    const matching = entries.map((entry) => entry.event !== undefined && matchesFilter(entry.event, client.filter));
    if (client.caller.role !== 'client') return matching;
    const unknown = [
      ...new Set(entries.flatMap((entry, i) => (matching[i] && entry.event && !client.sees.has(entry.event.missionId) ? [entry.event.missionId] : []))),
    ];
    if (unknown.length > 0) {
      const states = await readMissionStates(this.redis, this.keys, unknown);
      if (client.sees.size + unknown.length > OWNERSHIP_MEMORY) client.sees.clear();
      // The log entry and the mission's hash are written by one script: a logged mission has its state.
      unknown.forEach((missionId, i) => {
        const state = states[i];
        // A state changed past reading cannot show the mission is the client's: passed over as another's, and
        // not remembered, so that once `replay rebuild` has mended it the stream shows the mission again.
        if (state instanceof UnreadableStoredDataError) {
          this.unreadableStates.note(state);
          return;
        }
        this.unreadableStates.readable(missionId);
        client.sees.set(missionId, state !== null && seesMission(client.caller, state));
      });
    }
    return entries.map((entry, i) => matching[i] && entry.event !== undefined && client.sees.get(entry.event.missionId) === true);
  }

  /**
   * The events with their personal fields in plain, for a client whose role reads them. One whose
   * guest data cannot be opened (GuestDataError: its subject's key wrapped under a master key this
   * process lacks, or a field altered where it is stored) goes out all the same, its personal
   * fields UNAVAILABLE_MARKER, after a STREAM_UNAVAILABLE_EVENT with the body the API answers for
   * it: once per stream and key ids (the 503), or per mission (the 500 of altered data); the
   * process logs each once. Failing the round instead would drop the connection, and the client,
   * resuming at that event, would meet it again on every reconnect and never get past it. Any
   * other failure still fails the round.
   */
  private async opened(client: Client, events: readonly MissionEvent[]): Promise<Shown[]> {
    const results = await this.personal.openEachEvent(events);
    return results.map((result, i) => {
      if (result.status === 'fulfilled') return { event: result.value };
      const failure: unknown = result.reason;
      if (!(failure instanceof GuestDataError)) throw failure;
      const { missionId } = events[i];
      const body = toErrorBody(failure);
      if (failure instanceof WrongMasterKeyError) logMasterKeyMismatchOnce(body.message);
      else {
        body.message = unavailableNoticeMessage(body.message, missionId);
        this.logUnreadableOnce(missionId, failure);
      }
      const event = eventWithPersonalFieldsAs(events[i], UNAVAILABLE_MARKER);
      if (client.told.has(body.message)) return { event };
      client.told.add(body.message);
      return { event, notice: `event: ${STREAM_UNAVAILABLE_EVENT}\ndata: ${JSON.stringify(body)}\n\n` };
    });
  }

  /** One line per mission whose guest data cannot be opened, however many streams and events meet it. */
  private logUnreadableOnce(missionId: string, failure: GuestDataError): void {
    if (this.unreadable.has(missionId)) return;
    this.unreadable.add(missionId);
    this.logger.error(
      `live stream: the guest data of mission ${missionId} cannot be opened (${failure.code}): ${failure.message}; its events go out as ${UNAVAILABLE_MARKER}`,
    );
  }

  /** One line per log entry whose event cannot be read, however many streams pass over it. */
  private logUnreadableEntryOnce(entry: UnreadableLogEntry): void {
    if (this.unreadableEntries.has(entry.logId)) return;
    this.unreadableEntries.add(entry.logId);
    this.logger.warn(`live stream: log entry ${entry.logId} (mission ${entry.missionId}) passed over: ${entry.reason}; run replay verify`);
  }

  /**
   * The next entries after the client's position, over the partitions it reads, oldest first. An
   * entry whose event cannot be read (a log changed by hand) comes without one: the client's
   * position passes over it, as every client would otherwise stop there.
   */
  private async readAfter(client: Client): Promise<{ partition: number; id: string; event?: MissionEvent }[]> {
    const partitions = client.filter.missionId !== undefined ? [this.keys.partitionOf(client.filter.missionId)] : this.keys.partitions.map((_, index) => index);
    const reads = await Promise.all(
      partitions.map(async (partition) => {
        const entries = (await this.redis.xrange(this.keys.partitions[partition].log, `(${client.position[partition]}`, '+', 'COUNT', ENTRIES_PER_READ)) as [
          string,
          string[],
        ][];
        return entries.map(([id, fields]) => {
          const entry = readLogEntry(id, fields);
          if (!isUnreadable(entry)) return { partition, id, event: entry };
          this.logUnreadableEntryOnce(entry);
          return { partition, id };
        });
      }),
    );
    return reads.flat().sort((a, b) => compareEntryIds(a.id, b.id));
  }

  /** Resolves when the socket has taken what was written; drops the client when it takes longer than SSE_SLOW_CLIENT_MS. */
  private drained(client: Client): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        client.response.off('drain', done);
        client.response.off('close', done);
        resolve();
      };
      const timer = setTimeout(() => {
        client.response.destroy();
        done();
      }, this.env.SSE_SLOW_CLIENT_MS);
      client.response.once('drain', done);
      client.response.once('close', done);
    });
  }
}
