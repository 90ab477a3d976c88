import { join } from 'node:path';
import { LuaScriptOptions } from '@app/redis';
import { MISSION_HASH_FIELDS } from './mission-hash-fields';

/**
 * The LuaScript options of every script that touches mission hashes or the ready queue: the
 * mission hash fields as the Lua constant MISSION_FIELDS, and this library's Lua directory as the
 * include root `@event-store`, so another library's script includes the shared ready-queue
 * membership as `--- @include "@event-store/includes/ready-membership"`.
 */
export const MISSION_LUA_OPTIONS: LuaScriptOptions = {
  constants: { MISSION_FIELDS: MISSION_HASH_FIELDS },
  includeRoots: { 'event-store': join(__dirname, 'lua') },
};
