import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { KeyLayout } from '@app/event-store';
import { LuaScript, luaEnum, membersInOrder, RedisConnection } from '@app/redis';
import { REDIS } from '@app/runtime';

/** Result codes of mark-erasure-pending-2.lua. */
enum MarkCode {
  Recorded = 0,
  Pending = 1,
}

/** Result codes of clear-erasure-pending-2.lua. */
export enum ClearCode {
  Cleared = 0,
  Absent = 1,
  Other = 2,
}

const markScript = new LuaScript(join(__dirname, 'lua'), 'mark-erasure-pending-2', { constants: { CODE: luaEnum(MarkCode) } });
const clearScript = new LuaScript(join(__dirname, 'lua'), 'clear-erasure-pending-2', { constants: { CODE: luaEnum(ClearCode) } });

/** Subjects read per page (one round trip) of the pending set. */
export const PENDING_ERASURES_PAGE = 100;

/** An erasure recorded before the subject's key is destroyed: who asked and why, never personal data. */
export interface PendingErasure {
  /** Tells this erasure from a later one of the same subject, so completing it never removes that one. */
  id: string;
  subjectId: string;
  actor: string;
  reason: string;
  /** ISO time it was requested. */
  requestedAt: string;
}

/**
 * The erasures that destroyed (or are about to destroy) a subject's key and have not recorded
 * SubjectErased on each of its missions yet: `<prefix>{e}:erasure:<subject>:pending` per subject,
 * listed in `<prefix>{e}:erasures:pending`. Both keys share one hash tag, so each script runs on
 * one Redis Cluster slot.
 */
@Injectable()
export class PendingErasures {
  constructor(
    @Inject(REDIS) private readonly redis: RedisConnection,
    private readonly keys: KeyLayout,
  ) {}

  /**
   * Records the erasure as pending, unless one of the subject is pending already: then that one is
   * returned, and it is the one to complete (its key may be gone already).
   */
  async mark(subjectId: string, actor: string, reason: string, now = new Date()): Promise<PendingErasure> {
    const args = [subjectId, randomUUID(), actor, reason, now.toISOString(), now.getTime()];
    const [, id, inForceActor, inForceReason, requestedAt] = (await markScript.run(this.redis, this.keysOf(subjectId), args)) as [
      MarkCode,
      string,
      string,
      string,
      string,
    ];
    return { id, subjectId, actor: inForceActor, reason: inForceReason, requestedAt };
  }

  /** Removes the erasure once each of the subject's missions has its events; a later one of the subject stays. */
  async clear(erasure: PendingErasure): Promise<ClearCode> {
    return (await clearScript.run(this.redis, this.keysOf(erasure.subjectId), [erasure.subjectId, erasure.id])) as ClearCode;
  }

  /**
   * Every erasure pending since `requestedBefore` or earlier, oldest first. Each page is read on
   * after the last subject of the one before (membersInOrder): an erasure completed meanwhile (by
   * its request, or by another intake's sweep) made a page read by offset skip one, which waited
   * for the next sweep.
   */
  async list(requestedBefore: Date): Promise<PendingErasure[]> {
    const found: PendingErasure[] = [];
    for await (const [subjectId] of membersInOrder(this.redis, this.keys.erasuresPending, {
      end: String(requestedBefore.getTime()),
      pageSize: PENDING_ERASURES_PAGE,
    })) {
      const erasure = await this.read(subjectId);
      if (erasure) found.push(erasure);
    }
    return found;
  }

  /** Whether any of the subjects has an erasure pending: one round trip, none for no subjects. */
  async anyOf(subjectIds: readonly string[]): Promise<boolean> {
    if (subjectIds.length === 0) return false;
    const scores = await this.redis.zmscore(this.keys.erasuresPending, ...subjectIds);
    return scores.some((score) => score !== null);
  }

  /** The subject's pending erasure, if there is one. */
  async read(subjectId: string): Promise<PendingErasure | null> {
    const [id, actor, reason, requestedAt] = await this.redis.hmget(this.keys.erasurePending(subjectId), 'id', 'actor', 'reason', 'requestedAt');
    if (id === null || actor === null || reason === null || requestedAt === null) return null;
    return { id, subjectId, actor, reason, requestedAt };
  }

  private keysOf(subjectId: string): string[] {
    return [this.keys.erasurePending(subjectId), this.keys.erasuresPending];
  }
}
