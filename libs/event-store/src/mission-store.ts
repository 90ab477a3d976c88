import { join } from 'node:path';
import { v7 as uuidv7 } from 'uuid';
import { MESSAGE_ROUTES } from '@app/messages';
import { Decision, EventEnvelope, evolve, Mission, MissionEvent, MissionEventType, NewMissionEvent } from '@app/mission';
import { execAll, LuaScript, luaEnum, RedisConnection } from '@app/redis';
import { annotateSpan, currentTraceCarrier } from '@app/tracing';
import { AppendCode, AppendResult, VersionConflictError } from './append-result';
import { Effect } from './effect';
import { envelopesOf } from './event-envelopes';
import { KeyLayout, PartitionKeys } from './key-layout';
import { describeUnreadable, isUnreadable, LogEntryRead, readLogEntry } from './log-entry';
import { MISSION_HASH_FIELDS } from './mission-hash-fields';
import { missionLuaOptions } from './mission-lua';
import { namingWrongType, parseStoredMission } from './stored-mission';
import { UnreadableStoredDataError } from './unreadable-stored-data-error';

export interface AppendContext {
  /** The service (or API client) that causes the change. */
  actor: string;
  /** Ties every event of one business flow together; new missions start a new one when absent. */
  correlationId?: string;
  /** Id of the event or request that caused this change. */
  causationId?: string;
  now?: Date;
}

export type EffectsOf = Effect[] | ((next: Mission, appended: MissionEvent[], previous: Mission | null) => Effect[]);

/** What a transition's caller may add to its retries besides deciding again. */
export interface TransitionOptions {
  /**
   * Called with the mission reloaded after a version conflict, before deciding on it again: for a
   * decision that needs more than the state, such as whether the caller's own earlier try, whose
   * reply was lost, is in the log (a read; the one write stays the append that follows).
   */
  afterConflict?: (reloaded: Mission) => Promise<void>;
}

export type TransitionOutcome =
  | { kind: 'appended'; mission: Mission; events: MissionEvent[] }
  | { kind: 'skipped'; reason: string; mission: Mission }
  | { kind: 'not_found' }
  | { kind: 'lease_lost' };

/**
 * At most one `queue.ready` nudge per partition in this window. A mission queued right after a
 * nudge is found by the lease that nudge causes, or by the look the orchestrator takes after
 * placing it; the dispatcher's idle poke covers the rest.
 */
export const NUDGE_WINDOW_MS = 5;

/** Concurrent writers to one mission are rare; a few reloads settle them. */
const MAX_CONFLICT_RETRIES = 5;

/** Events read at a time from the end of a mission's history (lastEventOfType). */
const TAIL_CHUNK = 4;

const appendScript = new LuaScript(join(__dirname, 'lua'), 'append-mission-events', missionLuaOptions({ CODE: luaEnum(AppendCode) }));

/** Result codes of withdraw-idempotency-key-2.lua. */
export enum WithdrawCode {
  /** By this call: the caller may take it back if the append it was made for fails (releaseWithdrawnIdempotencyKey). */
  Withdrawn = 0,
  Created = 1,
  /** By another call, which may rely on it: it is kept whatever becomes of this caller's append. */
  WithdrawnBefore = 2,
}

/** Result codes of release-withdrawn-idempotency-key-1.lua. */
export enum WithdrawalReleaseCode {
  Released = 0,
  Kept = 1,
}

/**
 * The fingerprint in the record of a withdrawn idempotency key: a body's fingerprint, stored or
 * former, is an HMAC-SHA256 or a SHA-256 (64 hex digits), never this, so every create with the key
 * is refused as one with another body.
 */
const WITHDRAWN_FINGERPRINT = '0';
/** The same once a second withdrawal met the record: then two appends may rely on it, and it is never taken back. */
const WITHDRAWN_AGAIN_FINGERPRINT = '00';

const withdrawScript = new LuaScript(join(__dirname, 'lua'), 'withdraw-idempotency-key-2', { constants: { CODE: luaEnum(WithdrawCode) } });
const releaseScript = new LuaScript(join(__dirname, 'lua'), 'release-withdrawn-idempotency-key-1', { constants: { CODE: luaEnum(WithdrawalReleaseCode) } });

/** Result codes of restore-mission-effects-17.lua. */
export enum RestoreCode {
  Restored = 0,
  /** The mission hash is at another version than the one the effects were replayed to: nothing applied. */
  MovedOn = 1,
  /**
   * A lease holds the mission (taken since its effects were replayed, say): its effects on the ready
   * queue and the leases were left out, or it would be handed out twice; the others (its deadline
   * watch, schedule, reviews, dead letter) were applied.
   */
  Leased = 2,
  /**
   * As Leased, and its hash had no queue fields (written again by a rebuild, or deleted, while the
   * lease was held): those were written too, from its last enqueue, so the lease's end queues it
   * again as it was. No ready-queue sorted set or count was touched.
   */
  QueueFields = 3,
}

const restoreScript = new LuaScript(join(__dirname, 'lua'), 'restore-mission-effects-17', missionLuaOptions({ CODE: luaEnum(RestoreCode) }));

/** An effect to apply again, with the mission's state after the event that caused it. */
export interface RestoredEffect {
  effect: Effect;
  mission: Mission;
}

/**
 * The event store for missions: append at an expected version (with side effects, atomically)
 * and read the projected state and the history.
 */
export class MissionStore {
  constructor(
    private readonly redis: RedisConnection,
    readonly keys: KeyLayout,
    /** The nudge window; a test that counts nudges widens it so that slow appends still share one. */
    private readonly nudgeWindowMs = NUDGE_WINDOW_MS,
  ) {}

  /** The mission's state from the read model; UnreadableStoredDataError when it is no mission or its key no hash (changed by hand). */
  async load(missionId: string): Promise<Mission | null> {
    const key = this.keys.mission(missionId);
    const json = await namingWrongType(this.redis.hget(key, MISSION_HASH_FIELDS.state), missionId, key, 'hash');
    return json ? parseStoredMission(missionId, json) : null;
  }

  /** Whether the mission exists: one HEXISTS, for a check that needs no state. */
  async exists(missionId: string): Promise<boolean> {
    return (await this.redis.hexists(this.keys.mission(missionId), MISSION_HASH_FIELDS.version)) === 1;
  }

  /** The mission's events; UnreadableStoredDataError when one of them cannot be read (historyEntries says which). */
  async history(missionId: string): Promise<MissionEvent[]> {
    return this.eventsAt(missionId, 0, -1);
  }

  /** The mission's first event (its creation), or null when it has none; one log entry read, not the history. */
  async firstEvent(missionId: string): Promise<MissionEvent | null> {
    const [first] = await this.eventsAt(missionId, 0, 0);
    return first ?? null;
  }

  /** The mission's events, each that cannot be read (a log changed by hand) in its place, said why: what an audit shows. */
  async historyEntries(missionId: string): Promise<LogEntryRead[]> {
    return this.entriesAt(missionId, 0, -1);
  }

  /**
   * How many events the mission's event list names: one per version appended, a version whose log
   * entry was deleted too (history leaves such an entry out). Read it before history: an append in
   * between then makes it shorter than the events, never longer.
   */
  async listedEvents(missionId: string): Promise<number> {
    const key = this.keys.of(missionId).missionEvents(missionId);
    return namingWrongType(this.redis.llen(key), missionId, key, 'list');
  }

  /**
   * The mission's last event of `type` (of those `matching` holds for, when given), or null: read
   * from the end of its history a few events at a time, as the one wanted is nearly always among
   * the last. With `newerThan`, only the events after that version are looked at: a caller that
   * knows the one it wants cannot be older does not read the whole history when it is not there.
   */
  async lastEventOfType<T extends MissionEventType>(
    missionId: string,
    type: T,
    matching: (event: EventEnvelope<T>) => boolean = () => true,
    newerThan = 0,
  ): Promise<EventEnvelope<T> | null> {
    for (let stop = -1; ; stop -= TAIL_CHUNK) {
      const events = await this.eventsAt(missionId, stop - TAIL_CHUNK + 1, stop);
      for (let i = events.length - 1; i >= 0; i -= 1) {
        // The type test makes it that envelope; TypeScript cannot narrow a union by a generic type.
        const event = events[i] as EventEnvelope<T>;
        if (event.version <= newerThan) return null;
        if (event.type === type && matching(event)) return event;
      }
      if (events.length < TAIL_CHUNK) return null;
    }
  }

  /** The mission's events between two positions of its event list (LRANGE semantics); UnreadableStoredDataError for one that cannot be read. */
  private async eventsAt(missionId: string, start: number, stop: number): Promise<MissionEvent[]> {
    return (await this.entriesAt(missionId, start, stop)).map((entry) => {
      if (isUnreadable(entry)) throw new UnreadableStoredDataError(missionId, describeUnreadable(entry));
      return entry;
    });
  }

  /** The entries between two positions of the mission's event list; UnreadableStoredDataError when that list is no list (changed by hand). */
  private async entriesAt(missionId: string, start: number, stop: number): Promise<LogEntryRead[]> {
    const partition = this.keys.of(missionId);
    const listKey = partition.missionEvents(missionId);
    const ids = await namingWrongType(this.redis.lrange(listKey, start, stop), missionId, listKey, 'list');
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.xrange(partition.log, id, id);
    const replies = (await execAll(pipeline)) as [string, string[]][][];
    return replies.flatMap((entries, i) =>
      entries.map(([logId, fields]) => withListedVersion(readLogEntry(logId, fields), start >= 0 ? start + i + 1 : undefined)),
    );
  }

  /**
   * Appends `events` to the mission at its current version (`mission` null for a new one). The
   * new state is folded here, so an illegal transition throws before anything is written.
   */
  async append(
    missionId: string,
    mission: Mission | null,
    events: readonly NewMissionEvent[],
    context: AppendContext,
    effects: EffectsOf = [],
  ): Promise<AppendResult> {
    const now = stampFor(mission, context.now);
    const expectedVersion = mission?.version ?? 0;
    const correlationId = context.correlationId ?? mission?.correlationId ?? uuidv7();
    const envelopes = envelopesOf(missionId, expectedVersion, events, {
      actor: context.actor,
      at: now.toISOString(),
      correlationId,
      causationId: context.causationId ?? correlationId,
    });
    const next = envelopes.reduce<Mission | null>(evolve, mission);
    if (!next) throw new Error('append needs at least one event');
    const resolved = typeof effects === 'function' ? effects(next, envelopes, mission) : effects;

    const partition = this.keys.of(missionId);
    const keys = [
      partition.mission(missionId),
      partition.missionEvents(missionId),
      partition.log,
      partition.statusCounts,
      partition.missionIndex,
      partition.logHead,
    ];
    const keyIndex = (key: string): number => {
      const found = keys.indexOf(key);
      if (found >= 0) return found + 1;
      keys.push(key);
      return keys.length;
    };
    const effectArgs = resolved.flatMap((effect) => encodeEffect(partition, effect, keyIndex, next, this.nudgeWindowMs));
    // The messages the effects write continue the trace of the work that appends (none with tracing off),
    // and the span of that work names the mission, so a mission's trace can be found by its id.
    annotateSpan('brain.mission.id', missionId);
    const trace = currentTraceCarrier();
    if (trace?.traceparent) effectArgs.unshift(...luaEffect('trace', trace.traceparent, trace.tracestate ?? ''));
    const args = [
      missionId,
      expectedVersion,
      next.status,
      JSON.stringify(next),
      Date.parse(next.createdAt),
      envelopes.length,
      ...envelopes.map((e) => JSON.stringify(e)),
      ...effectArgs,
    ];
    const [code, detail] = (await appendScript.run(this.redis, keys, args)) as [number, string];
    switch (code as AppendCode) {
      case AppendCode.Ok:
        return { code: AppendCode.Ok, mission: next, events: envelopes };
      case AppendCode.VersionConflict:
        return { code: AppendCode.VersionConflict, currentVersion: Number(detail) };
      case AppendCode.Duplicate:
        return { code: AppendCode.Duplicate, missionId: detail };
      case AppendCode.LeaseLost:
        return { code: AppendCode.LeaseLost };
      case AppendCode.IdempotencyMismatch:
        return { code: AppendCode.IdempotencyMismatch, missionId: detail };
      case AppendCode.IdempotencyExpired:
        return { code: AppendCode.IdempotencyExpired, missionId: detail };
    }
    throw new Error(`append-mission-events returned unknown code ${code}`);
  }

  /**
   * Withdraws the idempotency key `key` (which names mission `missionId`) for `ttlMs`, the life of
   * every idempotency record: no create with it makes a mission within that time, not even one
   * already under way elsewhere. Unless a create used it first: Created, its mission exists.
   */
  async withdrawIdempotencyKey(missionId: string, key: string, ttlMs: number): Promise<WithdrawCode> {
    const partition = this.keys.of(missionId);
    const keys = [partition.idempotency(key), partition.mission(missionId)];
    return (await withdrawScript.run(this.redis, keys, [missionId, WITHDRAWN_FINGERPRINT, ttlMs, WITHDRAWN_AGAIN_FINGERPRINT])) as WithdrawCode;
  }

  /**
   * How long ago `key` was first withdrawn for `ttlMs` (withdrawIdempotencyKey), read from its
   * record's remaining life, and whether another withdrawal met it since (`met`: it is never taken
   * back); null when the key is not withdrawn. An age below 0 is a record made under a longer TTL
   * than `ttlMs` (IDEMPOTENCY_TTL_SECONDS lowered since): how old it is cannot be told.
   */
  async withdrawalOf(missionId: string, key: string, ttlMs: number): Promise<{ ageMs: number; met: boolean } | null> {
    const record = this.keys.of(missionId).idempotency(key);
    const [value, remainingMs] = (await execAll(this.redis.multi().get(record).pttl(record))) as [string | null, number];
    if (remainingMs < 0) return null;
    if (value === `${missionId} ${WITHDRAWN_FINGERPRINT}`) return { ageMs: ttlMs - remainingMs, met: false };
    if (value === `${missionId} ${WITHDRAWN_AGAIN_FINGERPRINT}`) return { ageMs: ttlMs - remainingMs, met: true };
    return null;
  }

  /**
   * Takes back a withdrawal of `key` that this caller made (WithdrawCode.Withdrawn) for an append
   * that failed: Released, unless another withdrawal met it since or a create holds the key (Kept).
   */
  async releaseWithdrawnIdempotencyKey(missionId: string, key: string): Promise<WithdrawalReleaseCode> {
    return (await releaseScript.run(this.redis, [this.keys.of(missionId).idempotency(key)], [missionId, WITHDRAWN_FINGERPRINT])) as WithdrawalReleaseCode;
  }

  /**
   * Applies again, without appending, effects that the mission's events caused (replayed from its
   * history, see restoringEffects in @app/pipeline) to a mission whose events and read model were
   * written without them by an import. Only effects on the mission's index
   * memberships and its service messages may be given (restore-mission-effects-17.lua names their
   * keys); an enqueue is not counted per minute again. MovedOn, with nothing applied, when the
   * mission is no longer at `version`; Leased when a lease holds it, its effects on the ready
   * queue and the leases then left out, or QueueFields when its hash also lacked the queue fields
   * its lease's end queues it by, then written too.
   */
  async restoreEffects(missionId: string, version: number, effects: readonly RestoredEffect[]): Promise<RestoreCode> {
    const k = this.keys.of(missionId);
    const keys = [
      k.mission(missionId),
      k.ready,
      k.readySince,
      k.readyByLevel,
      k.readyBySkills,
      k.perMinute,
      k.leased,
      k.leaseOwners,
      k.deadLetters,
      k.awaitingReview,
      k.reviewDeadlines,
      k.scheduled('delayed'),
      k.scheduled('retry'),
      k.deadlines,
      k.overdue,
      k.stream(MESSAGE_ROUTES['mission.assigned']),
      k.stream(MESSAGE_ROUTES['mission.completed']),
    ];
    const keyIndex = (key: string): number => {
      const found = keys.indexOf(key);
      if (found < 0) throw new Error(`an effect to restore names ${key}, which restore-mission-effects-17.lua does not take`);
      return found + 1;
    };
    const args = effects.flatMap(({ effect, mission }) => encodeEffect(k, effect, keyIndex, mission, this.nudgeWindowMs, { restoring: true }));
    return (await restoreScript.run(this.redis, keys, [missionId, version, ...args])) as RestoreCode;
  }

  /**
   * Runs a command against a mission: decide on the given state, append at its version; on a
   * version conflict reload and decide again. A message usually carries the state it was sent
   * with, so the common case is one round trip. `decide` is given the attempt's time, which the
   * events appended then carry (context.now when the caller fixes one; never before the mission's last event).
   */
  async transition(
    start: Mission | string,
    decide: (mission: Mission, now: Date) => Decision,
    context: AppendContext,
    effects: EffectsOf = [],
    { afterConflict }: TransitionOptions = {},
  ): Promise<TransitionOutcome> {
    let mission = typeof start === 'string' ? await this.load(start) : start;
    for (let attempt = 0; ; attempt++) {
      if (!mission) return { kind: 'not_found' };
      // Each attempt decides and stamps at its own time: a retry after another writer's append must
      // not carry events dated before that append, or the log's times would go backwards.
      const now = stampFor(mission, context.now);
      const decision = decide(mission, now);
      if (decision.kind === 'skip') return { kind: 'skipped', reason: decision.reason, mission };
      const result = await this.append(mission.id, mission, decision.events, { ...context, now }, effects);
      switch (result.code) {
        case AppendCode.Ok:
          return { kind: 'appended', mission: result.mission, events: result.events };
        case AppendCode.LeaseLost:
          return { kind: 'lease_lost' };
        case AppendCode.Duplicate:
        case AppendCode.IdempotencyMismatch:
        case AppendCode.IdempotencyExpired:
          throw new Error(`unexpected idempotency result ${AppendCode[result.code]} while changing mission ${mission.id}`);
        case AppendCode.VersionConflict:
          if (attempt >= MAX_CONFLICT_RETRIES) throw new VersionConflictError(mission.id, mission.version, result.currentVersion);
          mission = await this.load(mission.id);
          if (mission && afterConflict) await afterConflict(mission);
      }
    }
  }
}

/**
 * An entry that cannot be read and holds no version of its own (not JSON, or no version in it) is
 * given the one its place in the mission's event list names (one entry per version appended), so
 * history shows it there and not also as a version missing, and a state before it folds.
 */
function withListedVersion(entry: LogEntryRead, listedVersion: number | undefined): LogEntryRead {
  if (!isUnreadable(entry) || entry.version !== undefined || listedVersion === undefined) return entry;
  return { ...entry, version: listedVersion };
}

/**
 * The time new events of `mission` carry: `fixed` (a sweep's instant, which decides what is due) or
 * now, but never before the mission's last event. A sweep's instant is taken before its batch, and
 * another service's clock may run ahead: either dated an event before the one it follows, and a
 * history read up to an instant (`?at=`, `events?to=`) was then no prefix of the mission's history.
 */
function stampFor(mission: Mission | null, fixed: Date | undefined): Date {
  const now = fixed ?? new Date();
  const last = mission ? Date.parse(mission.updatedAt) : Number.NaN;
  return last > now.getTime() ? new Date(last) : now;
}

/**
 * The skill set a mission is queued under (`sk` in its hash, a field of `queue:ready-by-skills`, the
 * `<skills>` of its skill set's ready queue `queue:ready-sk:<skills>`): its required skills, comma-separated.
 */
export function skillSetOf(mission: Mission): string {
  return mission.requiredSkills.join(',');
}

/** An effect as arguments of append-mission-events.lua; its keys are all in the mission's partition. */
function encodeEffect(
  k: PartitionKeys,
  effect: Effect,
  keyIndex: (key: string) => number,
  next: Mission,
  nudgeWindowMs: number,
  { restoring = false }: { restoring?: boolean } = {},
): (string | number)[] {
  switch (effect.kind) {
    case 'idempotency':
      return luaEffect('idempotency', keyIndex(k.idempotency(effect.key)), effect.fingerprint, effect.ttlMs, effect.formerFingerprints.join(','));
    case 'require-lease':
      return luaEffect('require-lease', keyIndex(k.leased), keyIndex(k.leaseOwners), effect.leaseId);
    case 'enqueue':
      return luaEffect(
        'enqueue',
        ...readyQueueArgs(k, keyIndex),
        effect.score,
        effect.enqueuedAt,
        effect.level,
        skillSetOf(next),
        keyIndex(k.perMinute),
        // A restore puts the mission back where its enqueue did; that enqueue was counted when it happened.
        restoring ? '' : `e:${Math.floor(effect.enqueuedAt / 60_000)}`,
      );
    case 'leave-queue':
      return [...luaEffect('dequeue', ...readyQueueArgs(k, keyIndex)), ...luaEffect('zrem', keyIndex(k.leased)), ...luaEffect('hdel', keyIndex(k.leaseOwners))];
    case 'dead-letter':
      return [...luaEffect('zadd', keyIndex(k.deadLetters), effect.at), ...luaEffect('hset-mission', MISSION_HASH_FIELDS.deadLetterReason, effect.reason)];
    case 'leave-dead-letters':
      return [...luaEffect('zrem', keyIndex(k.deadLetters)), ...luaEffect('hdel-mission', MISSION_HASH_FIELDS.deadLetterReason)];
    case 'await-review':
      return [...luaEffect('zadd', keyIndex(k.awaitingReview), effect.at), ...luaEffect('zadd', keyIndex(k.reviewDeadlines), effect.at)];
    case 'leave-reviews':
      return [...luaEffect('zrem', keyIndex(k.awaitingReview)), ...luaEffect('zrem', keyIndex(k.reviewDeadlines))];
    case 'leave-review-deadlines':
      return luaEffect('zrem', keyIndex(k.reviewDeadlines));
    case 'count':
      return luaEffect('hincrby', keyIndex(k.counters), effect.counter, effect.by);
    case 'schedule':
      return luaEffect('zadd', keyIndex(k.scheduled(effect.reason)), effect.at);
    case 'leave-schedule':
      return [...luaEffect('zrem', keyIndex(k.scheduled('delayed'))), ...luaEffect('zrem', keyIndex(k.scheduled('retry')))];
    case 'watch-deadline':
      return luaEffect('zadd', keyIndex(k.deadlines), effect.deadline);
    case 'overdue':
      return [...luaEffect('zrem', keyIndex(k.deadlines)), ...luaEffect('zadd', keyIndex(k.overdue), effect.at)];
    case 'leave-deadlines':
      return [...luaEffect('zrem', keyIndex(k.deadlines)), ...luaEffect('zrem', keyIndex(k.overdue))];
    case 'retain':
      return luaEffect('zadd', keyIndex(k.retention(effect.missionType)), effect.at);
    case 'emit':
      return luaEffect('xadd', keyIndex(k.stream(MESSAGE_ROUTES[effect.message.pattern])), effect.message.pattern, JSON.stringify(effect.message.data));
    case 'emit-mission':
      return luaEffect('xadd-mission', keyIndex(k.stream(MESSAGE_ROUTES[effect.pattern])), effect.pattern);
    case 'nudge-orchestrator':
      return luaEffect('nudge', keyIndex(k.stream(MESSAGE_ROUTES['queue.ready'])), keyIndex(k.nudge('orchestrator')), nudgeWindowMs, 'queue.ready');
    case 'index-subject':
      return luaEffect('sadd', keyIndex(k.subjectMissions(effect.subject)));
  }
}

/**
 * One effect of append-mission-events.lua: its name, its argument count, its arguments. The script
 * steps over an effect by the count it carries, so an effect's arity is written only here.
 */
function luaEffect(name: string, ...args: (string | number)[]): (string | number)[] {
  return [name, args.length, ...args];
}

/** The ready-queue keys that lead an enqueue or dequeue effect (readyQueueAt in append-mission-events.lua). */
function readyQueueArgs(k: PartitionKeys, keyIndex: (key: string) => number): (string | number)[] {
  return [keyIndex(k.ready), keyIndex(k.readySince), keyIndex(k.readyByLevel), keyIndex(k.readyBySkills), k.readyWithSkillsPrefix];
}
