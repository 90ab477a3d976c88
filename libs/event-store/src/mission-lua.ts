import { join } from 'node:path';
import { LuaConstants, LuaScriptOptions } from '@app/redis';
import { PER_MINUTE_KEPT_MINUTES } from './key-layout';
import { MISSION_HASH_FIELDS } from './mission-hash-fields';

/**
 * The LuaScript options of every script that touches mission hashes or the ready queue: the
 * mission hash fields as the Lua constant MISSION_FIELDS and how long the per-minute counts keep
 * a minute as PER_MINUTE.keptMinutes (beside the script's own `constants`,
 * such as its result codes), and this library's Lua directory as the include root
 * `@event-store`, so another library's script includes the shared ready-queue membership as
 * `--- @include "@event-store/includes/ready-membership"`.
 */
export function missionLuaOptions(constants: LuaConstants = {}): LuaScriptOptions {
  return {
    constants: { MISSION_FIELDS: MISSION_HASH_FIELDS, PER_MINUTE: { keptMinutes: PER_MINUTE_KEPT_MINUTES }, ...constants },
    includeRoots: { 'event-store': join(__dirname, 'lua') },
  };
}
