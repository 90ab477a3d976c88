import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { AgentRegistry, skillsServable } from '@app/agents';
import { KeyLayout, MissionStore } from '@app/event-store';
import { RejectionCode } from '@app/messages';
import { isMissionType, isPlainObject, Mission, requiredSkillsOf } from '@app/mission';
import { LuaScript, luaEnum, RedisConnection } from '@app/redis';
import { ConnectorKeys } from './connector-keys';
import { ChatterPostAs, escapeHtml, postToChatterOnce } from './odoo-chatter';
import { isRecordGone, OdooClient, retryAfterOf } from './odoo-client';
import { UncertainChatterPostError } from './uncertain-chatter-post-error';

export enum SetAsideCode {
  Moved = 0,
  CursorMoved = 1,
  NotHeld = 2,
}

export enum TakenInCode {
  Recorded = 0,
  NotHeld = 1,
}

export enum SettleNoteCode {
  Settled = 0,
  Replaced = 1,
}

const setAsideScript = new LuaScript(join(__dirname, 'lua'), 'set-aside-refused-records-6', { constants: { CODE: luaEnum(SetAsideCode) } });
const takenInScript = new LuaScript(join(__dirname, 'lua'), 'record-records-taken-in-5', { constants: { CODE: luaEnum(TakenInCode) } });
const settleNoteScript = new LuaScript(join(__dirname, 'lua'), 'settle-refusal-note-1', { constants: { CODE: luaEnum(SettleNoteCode) } });

/** Entries read from a rejected-submission stream at a time. */
const BATCH = 100;

/** Notes posted in one round; the rest wait for the next. */
const NOTES_PER_ROUND = 20;

/** A note that failed is tried again after 1 minute, doubling up to an hour. */
const NOTE_RETRY_MS = 60_000;
const NOTE_RETRY_MAX_MS = 3_600_000;

/** A record whose mission was refused, and why. */
export interface RefusedRecord {
  model: string;
  recordId: number;
  missionId: string;
  reason: string;
}

/** A record the intake refused for skills no agent had: the skills its mission needs. */
interface Retake {
  skills: string[];
}

/** A record to take in again: some agent has the skills its mission needs now. */
export interface RecordToRetake {
  model: string;
  recordId: number;
}

/** A refusal's note still to post, as `refusal-notes` keeps it: with its failures, once it has any. */
interface PendingNote extends RefusedRecord {
  attempts?: number;
  /** When to try again (ms), after a failure. */
  nextAttemptAt?: number;
  lastError?: string;
  /** When a post of it had an unknown outcome (ms): kept until it is settled, see postToChatterOnce. */
  uncertainSince?: number;
}

/** A record set aside, as `GET /connector/refused` lists it. */
export interface RefusedRecordView {
  model: string;
  recordId: number;
  reason: string;
  /** Whether the note saying so is still to be posted to the record's chatter. */
  notePending: boolean;
  /** Why posting the note failed last, while it is pending after a failure. */
  noteError?: string;
}

/**
 * Refusals, told to Odoo. A record whose mission is refused, by the connector before sending (no
 * visible title, text over MAX_MISSION_TEXT_BYTES) or by the intake after (skills no agent has:
 * its rejected-submission stream), is set aside (`refused`, taken in again once an edit changes
 * it, or, refused by the intake, once an agent has the skills its mission needs) and gets one note
 * in its chatter with the reason, so the staff who filed it learn that no agent will work on it,
 * and why. The note names the mission and a digest of the reason: the same
 * refusal is never posted twice (the chatter is searched first, as for results), a new reason
 * after an edit is. Called within the poll round, which one instance at a time makes.
 */
export class OdooRefusals {
  constructor(
    private readonly odoo: OdooClient,
    private readonly redis: RedisConnection,
    private readonly keys: ConnectorKeys,
    private readonly logKeys: KeyLayout,
    private readonly store: Pick<MissionStore, 'load'>,
    private readonly agents: Pick<AgentRegistry, 'skillSets'>,
    private readonly postAs: ChatterPostAs,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Sets aside records refused before they were sent, each with a note to post. */
  async setAside(refused: readonly RefusedRecord[]): Promise<void> {
    if (refused.length === 0) return;
    const notes = refused.map((refusal) => [recordField(refusal), JSON.stringify(pendingNote(refusal))]);
    await this.redis
      .multi()
      .hset(this.keys.refused, Object.fromEntries(refused.map((refusal) => [recordField(refusal), refusal.reason])))
      .hset(this.keys.refusalNotes, Object.fromEntries(notes))
      // Refused here, it needs an edit now, whatever the intake said before.
      .hdel(this.keys.refusedForSkills, ...refused.map(recordField))
      .exec();
  }

  /**
   * Records sent as missions (`submitted`: record → mission id), and so no longer refused: off
   * `refused` and `refused-for-skills`, and any note still saying they were not taken in dropped;
   * one step, and only while `lockToken` holds the poll lock, so that no other instance reads the
   * intake's refusal of such a mission before the record is in `submitted`. Whether it was
   * recorded: when not, the lock is another's, who reads the records and sends them again.
   */
  async recordTakenIn(sent: ReadonlyMap<string, string>, lockToken: string): Promise<boolean> {
    if (sent.size === 0) return true;
    const code = (await takenInScript.run(
      this.redis,
      [this.keys.pollLock, this.keys.submitted, this.keys.refused, this.keys.refusedForSkills, this.keys.refusalNotes],
      [lockToken, ...[...sent].flat()],
    )) as TakenInCode;
    return code === TakenInCode.Recorded;
  }

  /** Records that will not be taken in again by themselves (gone from Odoo, or out of their rule): an edit still takes them in. */
  async forgetRetakes(fields: readonly string[]): Promise<void> {
    if (fields.length > 0) await this.redis.hdel(this.keys.refusedForSkills, ...fields);
  }

  /**
   * Reads every partition's rejected-submission stream after the connector's cursor, and sets
   * aside the records of the refused missions it sent. A refusal of a mission that exists for the
   * record (a record edited between a send and its record of it, sent again: an idempotency
   * conflict) is no refusal of the record: its mission runs. A mission under that id that is not
   * the record's (another sender named the id first) is not taken for it: the record is set aside,
   * with the reason, for staff to see, as the connector would otherwise wait on a result that never
   * comes. A record refused for skills no agent has (the
   * entry's `code`) is marked to be taken in again once one has them (dueForRetake). Each batch is
   * written only while `lockToken` holds the poll lock; once it does not, the rest is left to the
   * holder. How many it set aside.
   */
  async readRejected(lockToken: string): Promise<number> {
    let setAside = 0;
    for (const [partition, partitionKeys] of this.logKeys.partitions.entries()) {
      for (;;) {
        const after = (await this.redis.hget(this.keys.rejectedCursors, String(partition))) ?? '';
        const entries = (await this.redis.xrange(partitionKeys.rejectedSubmissions, after ? `(${after}` : '-', '+', 'COUNT', BATCH)) as [string, string[]][];
        if (entries.length === 0) break;
        const candidates = entries.flatMap(([, fields]) => refusalOf(fields) ?? []);
        const missions = await Promise.all(candidates.map((refusal) => this.store.load(refusal.missionId)));
        const refused = candidates.filter((refusal, i) => !isMissionOf(missions[i], refusal));
        const args = refused.flatMap((refusal) => [
          recordField(refusal),
          refusal.missionId,
          refusal.reason,
          JSON.stringify(pendingNote(refusal)),
          refusal.code === RejectionCode.NoAgentHasSkills ? JSON.stringify({ skills: refusal.skills } satisfies Retake) : '',
        ]);
        const [code, count] = (await setAsideScript.run(
          this.redis,
          [this.keys.rejectedCursors, this.keys.submitted, this.keys.refused, this.keys.refusalNotes, this.keys.refusedForSkills, this.keys.pollLock],
          [lockToken, String(partition), after, entries[entries.length - 1][0], ...args],
        )) as [SetAsideCode, number];
        if (code === SetAsideCode.NotHeld) return setAside;
        if (code === SetAsideCode.Moved) setAside += count;
        if (entries.length < BATCH) break;
      }
    }
    return setAside;
  }

  /** The records the intake refused for skills no agent had that some agent has now (the agents' skills read once). */
  async dueForRetake(): Promise<RecordToRetake[]> {
    const entries = Object.entries(await this.redis.hgetall(this.keys.refusedForSkills));
    if (entries.length === 0) return [];
    const skillSets = (await this.agents.skillSets()).map((skills) => new Set(skills));
    return entries.filter(([, json]) => skillsServable(skillSets, (JSON.parse(json) as Retake).skills)).map(([field]) => recordOfField(field));
  }

  /**
   * Posts the notes due now, oldest failures last, while `stillMine` says the round goes on. One
   * whose record is gone from Odoo is dropped; another failure is passed to `onFailure` and tried
   * again later (1 minute, doubling up to an hour), so a note that keeps failing holds up no other.
   * How many were posted.
   */
  async postNotes(onFailure: (refusal: RefusedRecord, error: unknown) => void, stillMine: () => Promise<boolean> = async () => true): Promise<number> {
    const now = this.clock();
    const due = Object.entries(await this.redis.hgetall(this.keys.refusalNotes))
      .map(([field, json]) => ({ field, json, note: JSON.parse(json) as PendingNote }))
      .filter(({ note }) => (note.nextAttemptAt ?? 0) <= now)
      .sort((a, b) => (a.note.nextAttemptAt ?? 0) - (b.note.nextAttemptAt ?? 0))
      .slice(0, NOTES_PER_ROUND);
    let posted = 0;
    for (const { field, json, note } of due) {
      if (!(await stillMine())) break;
      const marker = noteMarker(note);
      try {
        const outcome = await postToChatterOnce(this.odoo, note, marker, () => refusalNote(note, marker), this.postAs, {
          uncertainSince: note.uncertainSince,
          now: this.clock(),
        });
        if (outcome.posted) posted += 1;
      } catch (error) {
        // Cut short by the stop: no failure of Odoo's (it was a warning, a failure counted and a
        // doubled delay), left due as it was, as the write-back leaves one. A post that was sent is
        // stored all the same: its outcome is unknown, and it must not be posted again soon.
        if (this.odoo.stopping && !(error instanceof UncertainChatterPostError && error.sent)) break;
        // Only a MissingError of the record itself: one about a record the post reads is a failure like any other.
        if (!(await isRecordGone(this.odoo, note, error))) {
          onFailure(note, error);
          await this.settleNote(field, json, JSON.stringify(failedAgain(note, error, this.clock())));
          continue;
        }
        // Gone from Odoo: nothing will take it in again, so it is no longer listed as refused either.
        await this.redis.multi().hdel(this.keys.refusalNotes, field).hdel(this.keys.refused, field).hdel(this.keys.refusedForSkills, field).exec();
        continue;
      }
      await this.settleNote(field, json, '');
    }
    return posted;
  }

  /** The note read as `json` dropped ('') or stored as `next`; a newer refusal of the record that replaced it meanwhile is kept. */
  private async settleNote(field: string, json: string, next: string): Promise<void> {
    await settleNoteScript.run(this.redis, [this.keys.refusalNotes], [field, json, next]);
  }

  /** The records set aside, with their reasons. */
  async list(): Promise<RefusedRecordView[]> {
    const [refused, notes] = await Promise.all([this.redis.hgetall(this.keys.refused), this.redis.hgetall(this.keys.refusalNotes)]);
    const pending = new Map(Object.entries(notes).map(([field, json]) => [field, JSON.parse(json) as PendingNote]));
    return Object.entries(refused).map(([field, reason]) => {
      const note = pending.get(field);
      return {
        ...recordOfField(field),
        reason,
        notePending: note !== undefined,
        ...(note?.lastError ? { noteError: note.lastError } : {}),
      };
    });
  }
}

/** Whether `mission` is the one sent for the record: an existing mission of the same id that names another source, or none, is another sender's. */
function isMissionOf(mission: Mission | null, record: Pick<RefusedRecord, 'model' | 'recordId'>): boolean {
  const source = mission?.source;
  return source?.system === 'odoo' && source.model === record.model && source.recordId === record.recordId;
}

function pendingNote({ model, recordId, missionId, reason }: RefusedRecord): PendingNote {
  return { model, recordId, missionId, reason };
}

function failedAgain(note: PendingNote, error: unknown, now: number): PendingNote {
  const attempts = (note.attempts ?? 0) + 1;
  const lastError = error instanceof Error ? error.message : String(error);
  const uncertainSince = error instanceof UncertainChatterPostError && error.sent ? now : note.uncertainSince;
  return {
    ...note,
    attempts,
    lastError,
    // Not before a rate-limited Odoo's Retry-After.
    nextAttemptAt: now + Math.max(Math.min(NOTE_RETRY_MAX_MS, NOTE_RETRY_MS * 2 ** (attempts - 1)), retryAfterOf(error)),
    ...(uncertainSince === undefined ? {} : { uncertainSince }),
  };
}

/** '<model>:<record id>': the record's field in `submitted` and `refused`. */
export function recordField(record: Pick<RefusedRecord, 'model' | 'recordId'>): string {
  return `${record.model}:${record.recordId}`;
}

/** The record a field of `submitted` or `refused` names (recordField's inverse; a model may hold dots, not colons). */
function recordOfField(field: string): Pick<RefusedRecord, 'model' | 'recordId'> {
  const at = field.lastIndexOf(':');
  return { model: field.slice(0, at), recordId: Number(field.slice(at + 1)) };
}

/** Names the refusal in its chatter note: the same refusal is never posted twice, a new reason is. */
function noteMarker(refusal: RefusedRecord): string {
  return `brain-refused:${refusal.missionId}:${createHash('sha256').update(refusal.reason).digest('hex').slice(0, 12)}`;
}

/** What the chatter shows of a refusal: that no agent will work on the record, why, and what to do. */
function refusalNote(refusal: RefusedRecord, marker: string): string {
  return [
    `<p><b>BRAIN: not taken in</b> — no agent will work on this record. <small>(${marker})</small></p>`,
    `<p>${escapeHtml(refusal.reason)}</p>`,
    '<p>It is taken in again when the record is edited, or, refused for skills no agent has, once an agent has them.</p>',
  ].join('');
}

/**
 * The refusal an entry of a rejected-submission stream records, when it is of a mission sent for
 * an Odoo record with its own id (as the connector sends them); null for any other entry. The
 * entry is read from Redis, where any sender may have written: nothing in it is trusted to be
 * well formed.
 */
function refusalOf(fields: readonly string[]): (RefusedRecord & { skills: string[]; code: string | undefined }) | null {
  const value = (name: string) => {
    const at = fields.indexOf(name);
    return at >= 0 && at % 2 === 0 ? fields[at + 1] : undefined;
  };
  const reason = value('reason');
  let data: unknown;
  try {
    data = JSON.parse(value('data') ?? 'null') as unknown;
  } catch {
    return null;
  }
  if (!reason || !isPlainObject(data) || typeof data.missionId !== 'string' || !isPlainObject(data.mission)) return null;
  const source = data.mission.source;
  if (!isPlainObject(source) || source.system !== 'odoo') return null;
  const { model, recordId } = source;
  if (typeof model !== 'string' || typeof recordId !== 'number' || !Number.isSafeInteger(recordId)) return null;
  const { type, requiredSkills } = data.mission;
  if (!isMissionType(type)) return null;
  const skills = requiredSkillsOf({
    type,
    requiredSkills: Array.isArray(requiredSkills) ? requiredSkills.filter((skill) => typeof skill === 'string') : undefined,
  });
  return { model, recordId, missionId: data.missionId, reason, skills, code: value('code') };
}
