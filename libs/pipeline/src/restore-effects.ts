import { Effect, MissionStore, RestoreCode, RestoredEffect } from '@app/event-store';
import { MESSAGE_ROUTES } from '@app/messages';
import { deadlineMs, evolve, Mission, MissionEvent, MissionStatus, TERMINAL_STATUSES } from '@app/mission';
import { RedisConnection } from '@app/redis';
import { DEAD_LETTER_EVENT_TYPES, EffectContext, effectsOf } from './mission-effects';

/**
 * The effects that keep a mission's place in the indexes the services read: the ready queue, the
 * schedule, the deadline watch, the review inbox and the dead letters. A restore applies them
 * again; the others (counters, agent releases, nudges, idempotency records, leases) happened where
 * the events were appended, and the subject and retention sets are written by the import itself
 * (subjectIndexEffects).
 */
const MEMBERSHIP_EFFECTS: ReadonlySet<Effect['kind']> = new Set<Effect['kind']>([
  'enqueue',
  'leave-queue',
  'schedule',
  'leave-schedule',
  'watch-deadline',
  'overdue',
  'leave-deadlines',
  'await-review',
  'leave-reviews',
  'leave-review-deadlines',
  'dead-letter',
  'leave-dead-letters',
]);

/** The effects that record a mission in the indexes of data subjects: each subject's missions, and retention's set of its type. */
export type SubjectIndexEffect = Extract<Effect, { kind: 'index-subject' | 'retain' }>;

const isSubjectIndexEffect = (effect: Effect): effect is SubjectIndexEffect => effect.kind === 'index-subject' || effect.kind === 'retain';

/**
 * The subject-index effects (index-subject from the create, retain from reaching a final status)
 * of one of a mission's events, `previous` and `next` its state before and after it, at the
 * event's own time, as its append had them. An import, which appends no event, writes them as it
 * reads each one, so a change of those rules in MISSION_EFFECTS reaches it. They hold no place in
 * a queue, so a restore has none to put back. The queue effects, all that read queueScore, are
 * left out.
 */
export function subjectIndexEffects(event: MissionEvent, previous: Mission | null, next: Mission): SubjectIndexEffect[] {
  return effectsOf([event], { previous, next, now: Date.parse(event.at), queueScore: () => 0 }).filter(isSubjectIndexEffect);
}

/** Where a mission's events leave it among the dead letters: its `queue:dlq` score (ms) and the reason its hash keeps (`dr`). */
export interface DeadLetterPlace {
  at: number;
  reason: string;
}

/**
 * What one of a mission's events does to its place among the dead letters, by MISSION_EFFECTS at
 * the event's own time, as its append did: the place it puts the mission in, null when it takes it
 * out, undefined when it does not touch the dead letters. The dead-letter rules read only the event
 * and its time, not the state before it, so none is asked for: a fold that changes its states in
 * place need keep no copy.
 */
export function deadLetterPlaceAfter(event: MissionEvent, next: Mission): DeadLetterPlace | null | undefined {
  if (!DEAD_LETTER_EVENT_TYPES.has(event.type)) return undefined;
  let place: DeadLetterPlace | null | undefined;
  for (const effect of effectsOf([event], { previous: null, next, now: Date.parse(event.at), queueScore: () => 0 })) {
    if (effect.kind === 'dead-letter') place = { at: effect.at, reason: effect.reason };
    else if (effect.kind === 'leave-dead-letters') place = null;
  }
  return place;
}

/**
 * Where a mission's events leave it on the deadline watch (MISSION_EFFECTS: its create's
 * watch-deadline, its MissionOverdue's overdue, its finish's leave-deadlines): `watched` in
 * `deadlines:watched` at its deadline (ms) until it is found overdue, then `overdue` in
 * `deadlines:overdue` at the time it was (its MissionOverdue's), until it finishes. Undefined for a
 * finished mission and one without a deadline that parses: on neither.
 */
export interface DeadlinePlace {
  set: 'watched' | 'overdue';
  at: number;
}

export function deadlinePlaceOf(mission: Mission): DeadlinePlace | undefined {
  if (TERMINAL_STATUSES.includes(mission.status)) return undefined;
  if (mission.overdueAt !== undefined) return { set: 'overdue', at: Date.parse(mission.overdueAt) };
  const deadline = deadlineMs(mission.deadline);
  return deadline === undefined ? undefined : { set: 'watched', at: deadline };
}

/** The effect that puts a mission at `place` on the deadline watch, as its events' effects put it there. */
export function deadlineEffect(place: DeadlinePlace): Effect {
  return place.set === 'watched' ? { kind: 'watch-deadline', deadline: place.at } : { kind: 'overdue', at: place.at };
}

/**
 * Statuses in which a service holds the mission and a message drives it on: assigned and running
 * (mission.assigned, to the executor), evaluating (mission.completed, to the evaluator).
 */
export const IN_FLIGHT_STATUSES: readonly MissionStatus[] = ['assigned', 'running', 'evaluating'];

/** The services the messages of missions in flight go to: the executor and the evaluator. */
export const IN_FLIGHT_ROUTES = [MESSAGE_ROUTES['mission.assigned'], MESSAGE_ROUTES['mission.completed']] as const;

/**
 * The consumer of the executor's group that holds, unacknowledged, the mission.assigned of each
 * mission an import finds running: it never reads again, so an executor reclaims the message after
 * STREAM_CLAIM_IDLE_MS as from an executor that stopped mid-call, and its lost-attempt handling
 * (a redelivered message finding the attempt running, not started by itself) fails the attempt,
 * and the retry rules go on.
 */
export const RESTORED_ATTEMPT_CONSUMER = 'restored-import';

/**
 * Replays a mission's history through MISSION_EFFECTS, event by event (each with the state before
 * and after it, at its own time, as its append had them), and keeps the effects on its index
 * memberships, in order, with the lease's removal from the ready queue before each assignment:
 * applied to empty indexes they leave the mission where its appends left it, with the same scores. With `messages`, a mission in flight (IN_FLIGHT_STATUSES) gets the last
 * mission message its events caused (mission.assigned or mission.completed), carrying its state now.
 */
export function restoringEffects(
  history: readonly MissionEvent[],
  queueScore: EffectContext['queueScore'],
  { messages = false }: { messages?: boolean } = {},
): { mission: Mission | null; effects: RestoredEffect[] } {
  let mission: Mission | null = null;
  let lastMessage: Effect | undefined;
  const effects: RestoredEffect[] = [];
  for (const event of history) {
    const next = evolve(mission, event);
    // An assignment is made on a lease, which took the mission out of the ready queue
    // (removeFromReady in lease-ready-missions-8.lua) before the MissionAssigned was appended.
    if (event.type === 'MissionAssigned') effects.push({ effect: { kind: 'leave-queue' }, mission: next });
    for (const effect of effectsOf([event], { previous: mission, next, now: Date.parse(event.at), queueScore })) {
      if (MEMBERSHIP_EFFECTS.has(effect.kind)) effects.push({ effect, mission: next });
      else if (effect.kind === 'emit-mission') lastMessage = effect;
    }
    mission = next;
  }
  if (messages && mission && lastMessage && IN_FLIGHT_STATUSES.includes(mission.status)) effects.push({ effect: lastMessage, mission });
  return { mission, effects };
}

export interface RestoreResult {
  /**
   * Missions whose memberships (and message, when in flight) were written; for a leased mission,
   * all but its place in the ready queue, and its queue fields when its hash lacked them
   * (RestoreCode.Leased, QueueFields).
   */
  restored: number;
  /** Missions that moved on while they were restored: left alone. */
  movedOn: number;
  /** Of the restored, missions in flight given their driving message. */
  messages: number;
  /** Of those, running missions whose message was left pending for an executor to reclaim (RESTORED_ATTEMPT_CONSUMER). */
  lostAttempts: number;
}

export interface RestoreOptions {
  queueScore: EffectContext['queueScore'];
  /**
   * Write the driving message of each mission in flight (an import: streams are not exported).
   * Only into a deployment whose services have not read the executor's stream yet: a running
   * mission's message is handed to RESTORED_ATTEMPT_CONSUMER by reading the stream's new messages.
   */
  messages?: boolean;
  /** Told how many missions were looked at, as it goes (a progress bar). */
  onProgress?: (done: number) => void;
}

/**
 * Puts each unfinished mission of `missionIds` back into the indexes its events put it in
 * (restoringEffects), through the append script's own effects (MissionStore.restoreEffects); a
 * finished one is in none. With `messages`, also writes the driving message of each mission in
 * flight: running missions first, each then held pending by RESTORED_ATTEMPT_CONSUMER (the attempt
 * running at export time ran elsewhere; here it counts as lost, and its retry follows), then
 * assigned missions' mission.assigned (the executor starts the attempt) and evaluating missions'
 * mission.completed (the evaluator judges it), delivered as new.
 */
export async function restoreMissionEffects(
  redis: RedisConnection,
  store: MissionStore,
  missionIds: Iterable<string>,
  options: RestoreOptions,
): Promise<RestoreResult> {
  const result: RestoreResult = { restored: 0, movedOn: 0, messages: 0, lostAttempts: 0 };
  const later: { missionId: string; version: number; effects: RestoredEffect[] }[] = [];
  const runningByStream = new Map<string, number>();
  const apply = async (missionId: string, version: number, effects: RestoredEffect[], inFlight: boolean): Promise<boolean> => {
    const code = await store.restoreEffects(missionId, version, effects);
    // A leased mission given back all but its place in the ready queue (and its queue fields, if
    // lost, by which its lease's end queues it): restored, though it drives no message.
    if (code === RestoreCode.QueueFields || code === RestoreCode.Leased) {
      result.restored++;
      return false;
    }
    if (code !== RestoreCode.Restored) {
      result.movedOn++;
      return false;
    }
    result.restored++;
    if (inFlight) result.messages++;
    return true;
  };
  let done = 0;
  for (const missionId of missionIds) {
    // The missions held for later (all but the running ones) count when they are looked at.
    options.onProgress?.(++done);
    const { mission, effects } = restoringEffects(await store.history(missionId), options.queueScore, { messages: options.messages });
    if (!mission || TERMINAL_STATUSES.includes(mission.status)) continue;
    const inFlight = effects.some(({ effect }) => effect.kind === 'emit-mission');
    if (inFlight && mission.status === 'running') {
      if (await apply(missionId, mission.version, effects, true)) {
        const stream = store.keys.of(missionId).stream(MESSAGE_ROUTES['mission.assigned']);
        runningByStream.set(stream, (runningByStream.get(stream) ?? 0) + 1);
      }
    } else {
      later.push({ missionId, version: mission.version, effects });
    }
  }
  for (const [stream, count] of runningByStream) result.lostAttempts += await holdAsLost(redis, stream, count);
  for (const { missionId, version, effects } of later)
    await apply(
      missionId,
      version,
      effects,
      effects.some(({ effect }) => effect.kind === 'emit-mission'),
    );
  return result;
}

/**
 * Hands the `count` messages in `stream` (a new deployment's executor stream, holding only the
 * running missions' mission.assigned) to RESTORED_ATTEMPT_CONSUMER of the executor's group,
 * created from the stream's start as the executor creates it. Returns how many it holds.
 */
async function holdAsLost(redis: RedisConnection, stream: string, count: number): Promise<number> {
  const group = MESSAGE_ROUTES['mission.assigned'];
  await redis.xgroup('CREATE', stream, group, '0', 'MKSTREAM').catch((error: unknown) => {
    if (!String(error).includes('BUSYGROUP')) throw error;
  });
  const read = (await redis.xreadgroup('GROUP', group, RESTORED_ATTEMPT_CONSUMER, 'COUNT', count, 'STREAMS', stream, '>')) as [string, unknown[]][] | null;
  return read?.[0]?.[1].length ?? 0;
}
