import { join } from 'node:path';
import { LuaConstants, LuaScript, luaEnum, RedisConnection } from '@app/redis';
import { ApplyOutcome, ProjectionBatch } from './projection';
import { ENTRIES_SUFFIX } from './projection-checkpoints';

/** Result codes of every projection script (ProjectionScript): its reply is `{ code, ... }`. */
export enum ProjectionApplyCode {
  /** `{ Applied, applied[, ignored] }`: the batch is applied and the checkpoint moved. */
  Applied = 0,
  /** `{ Stale, checkpoint }`: the checkpoint is not the batch's `after`; nothing written. */
  Stale = 1,
}

/**
 * The Lua script a projection applies a batch with: it checks and moves the projection's
 * checkpoint through `@projections/includes/projection-checkpoint` (this library's Lua directory
 * is the include root `@projections`), takes the batch's place as its first four ARGV and its own
 * arguments after them, and replies with a ProjectionApplyCode, so the checkpoint's layout and the
 * Stale handling are written once for every projection.
 */
export class ProjectionScript {
  private readonly script: LuaScript;

  constructor(dir: string, name: string, constants: LuaConstants = {}) {
    this.script = new LuaScript(dir, name, {
      constants: { CODE: luaEnum(ProjectionApplyCode), CHECKPOINT: { entriesSuffix: ENTRIES_SUFFIX }, ...constants },
      includeRoots: { projections: join(__dirname, 'lua') },
    });
  }

  /** Runs the script for `batch`, `args` after the batch's own four; `ignored` is 0 when the script counts none. */
  async apply(redis: RedisConnection, keys: readonly string[], batch: ProjectionBatch, args: readonly (string | number)[]): Promise<ApplyOutcome> {
    const reply = (await this.script.run(redis, keys, [batch.stream, batch.after, batch.lastId, batch.entries, ...args])) as [number, number | string, number?];
    const [code, detail, ignored] = reply;
    if (code === ProjectionApplyCode.Stale) return { kind: 'stale', checkpoint: String(detail) };
    return { kind: 'applied', applied: Number(detail), ignored: Number(ignored ?? 0) };
  }
}
