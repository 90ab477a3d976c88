import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Redis from 'ioredis';
import { KeyLayout, PartitionKeys } from '@app/event-store';
import { LuaScript } from '@app/redis';
import { LogWalk } from './log-walk';
import { noProgress, ProgressListener } from './progress';
import { MissionFold, ReplayFold } from './replay-fold';
import { recountStatuses } from './status-counts';

export interface RebuildOptions {
  /** Log entries per XRANGE. Default 10,000. */
  batchSize?: number;
  /** Scratch hashes written, and missions switched, per pipeline. Default 1,000. */
  writeBatchSize?: number;
  onProgress?: ProgressListener;
  /** Runs after the scratch copies are written and before the switch (for tests: a mission moving on meanwhile). */
  beforeSwitch?: () => Promise<void>;
  /** Names the scratch keys; random by default. */
  runId?: string;
}

export interface RebuildResult {
  runId: string;
  events: number;
  missions: number;
  /** Missions whose live `s`/`st` now hold the rebuilt state. */
  switched: number;
  /** Missions without a live mission hash, written whole from the rebuild (counted in `switched` too). */
  restored: number;
  /** Missions that moved on (a newer live `v`) while the rebuild ran: left alone. */
  skippedMovedOn: number;
  /** Missions whose live `v` is older than their log: left alone (verify reports them). */
  skippedBehind: number;
  /** Missions whose events cannot be folded: left alone (verify reports them). */
  unreplayable: string[];
  /** False when the status counters could not be recounted because appends kept changing them. */
  countersRecounted: boolean;
  eventsPerSecond: number;
  ms: number;
  timings: { replayMs: number; writeMs: number; switchMs: number; recountMs: number };
}

export const REPLAY_PHASE = 'read log';
export const WRITE_PHASE = 'write scratch';
export const SWITCH_PHASE = 'switch';

/** Scratch copies outlive a crashed rebuild by at most a day. */
const SCRATCH_TTL_MS = 24 * 60 * 60 * 1000;

enum SwitchCode {
  MovedOn = 0,
  Switched = 1,
  Restored = 2,
  Behind = 3,
  NoScratch = 4,
}

const switchScript = new LuaScript(join(__dirname, 'lua'), 'switch-read-model');

/** Where a rebuild run keeps the rebuilt copy of a mission until the switch: in its partition's hash slot. */
export function scratchKey(keys: PartitionKeys, runId: string, missionId: string): string {
  return keys.rebuildScratch(runId, missionId);
}

/**
 * Rebuilds every mission's read model from the log without stopping anything:
 * 1. replay the whole log in large XRANGE batches, folding every mission in memory;
 * 2. write each rebuilt mission to a scratch hash (pipelined), so the live read model keeps serving;
 * 3. switch each mission with switch-read-model.lua, which copies `s`/`st` only if the live `v` is
 *    still the rebuilt version (a mission that moved on meanwhile keeps its newer state), keeps the
 *    status counters in step, and deletes the scratch hash;
 * 4. recount the status counters from the live `st` of every mission (when appends let it).
 */
export async function rebuildReadModels(redis: Redis, keys: KeyLayout, options: RebuildOptions = {}): Promise<RebuildResult> {
  const started = performance.now();
  const runId = options.runId ?? randomBytes(6).toString('hex');
  const results: RebuildResult[] = [];
  for (const partition of keys.partitions) results.push(await rebuildPartition(redis, partition, { ...options, runId }));
  const total = (pick: (r: RebuildResult) => number) => results.reduce((sum, r) => sum + pick(r), 0);
  const ms = performance.now() - started;
  return {
    runId,
    events: total((r) => r.events),
    missions: total((r) => r.missions),
    switched: total((r) => r.switched),
    restored: total((r) => r.restored),
    skippedMovedOn: total((r) => r.skippedMovedOn),
    skippedBehind: total((r) => r.skippedBehind),
    unreplayable: results.flatMap((r) => r.unreplayable),
    countersRecounted: results.every((r) => r.countersRecounted),
    eventsPerSecond: ms > 0 ? Math.round((total((r) => r.events) / ms) * 1000) : 0,
    ms: Math.round(ms),
    timings: {
      replayMs: total((r) => r.timings.replayMs),
      writeMs: total((r) => r.timings.writeMs),
      switchMs: total((r) => r.timings.switchMs),
      recountMs: total((r) => r.timings.recountMs),
    },
  };
}

/** Rebuilds one log partition's read models (see rebuildReadModels). */
export async function rebuildPartition(redis: Redis, keys: PartitionKeys, options: RebuildOptions = {}): Promise<RebuildResult> {
  const started = performance.now();
  const onProgress = options.onProgress ?? noProgress;
  const runId = options.runId ?? randomBytes(6).toString('hex');
  const writeBatch = options.writeBatchSize ?? 1_000;

  const fold = new ReplayFold();
  const walk = new LogWalk(redis, keys, (entry, hash, stored) => fold.add(entry, hash, stored), onProgress, options.batchSize ?? 10_000);
  await walk.readAll();
  const replayed = performance.now();

  const rebuilt: MissionFold[] = [];
  const unreplayable: string[] = [];
  for (const mission of fold.values()) {
    if (mission.state && !mission.failure) rebuilt.push(mission);
    else unreplayable.push(mission.missionId);
  }

  const result = { switched: 0, restored: 0, skippedMovedOn: 0, skippedBehind: 0 };
  let written = 0;
  let writtenAt = replayed;
  try {
    for (let offset = 0; offset < rebuilt.length; offset += writeBatch) {
      const pipeline = redis.pipeline();
      for (const mission of rebuilt.slice(offset, offset + writeBatch)) {
        const state = mission.state;
        if (!state) continue;
        const key = scratchKey(keys, runId, mission.missionId);
        pipeline.hset(key, { v: String(state.version), st: state.status, s: JSON.stringify(state), h: mission.lastHash });
        pipeline.pexpire(key, SCRATCH_TTL_MS);
      }
      await execAll(pipeline);
      written = Math.min(offset + writeBatch, rebuilt.length);
      onProgress({ phase: WRITE_PHASE, done: written, total: rebuilt.length });
    }
    writtenAt = performance.now();

    await options.beforeSwitch?.();

    const switchOne = async (mission: MissionFold): Promise<void> => {
      const [code] = (await switchScript.run(
        redis,
        [keys.mission(mission.missionId), scratchKey(keys, runId, mission.missionId), keys.statusCounts],
        [],
      )) as [number, string];
      if (code === SwitchCode.Switched) result.switched++;
      else if (code === SwitchCode.Restored) {
        result.switched++;
        result.restored++;
      } else if (code === SwitchCode.MovedOn) result.skippedMovedOn++;
      else if (code === SwitchCode.Behind) result.skippedBehind++;
    };
    // The first call loads the script; the rest go out a batch at a time without waiting for each other.
    if (rebuilt.length > 0) {
      await switchOne(rebuilt[0]);
      onProgress({ phase: SWITCH_PHASE, done: 1, total: rebuilt.length });
    }
    for (let offset = 1; offset < rebuilt.length; offset += writeBatch) {
      await Promise.all(rebuilt.slice(offset, offset + writeBatch).map(switchOne));
      onProgress({ phase: SWITCH_PHASE, done: Math.min(offset + writeBatch, rebuilt.length), total: rebuilt.length });
    }
  } catch (error) {
    await deleteScratch(redis, keys, runId, rebuilt.slice(0, written)).catch(() => undefined);
    throw error;
  }
  const switchedAt = performance.now();

  const { recounted } = await recountStatuses(redis, keys);
  const finished = performance.now();
  const ms = finished - started;
  return {
    runId,
    events: walk.events,
    missions: fold.missions,
    ...result,
    unreplayable,
    countersRecounted: recounted,
    eventsPerSecond: ms > 0 ? Math.round((walk.events / ms) * 1000) : 0,
    ms: Math.round(ms),
    timings: {
      replayMs: Math.round(replayed - started),
      writeMs: Math.round(writtenAt - replayed),
      switchMs: Math.round(switchedAt - writtenAt),
      recountMs: Math.round(finished - switchedAt),
    },
  };
}

async function deleteScratch(redis: Redis, keys: PartitionKeys, runId: string, missions: MissionFold[]): Promise<void> {
  for (let offset = 0; offset < missions.length; offset += 1_000) {
    await redis.unlink(...missions.slice(offset, offset + 1_000).map((m) => scratchKey(keys, runId, m.missionId)));
  }
}

async function execAll(pipeline: ReturnType<Redis['pipeline']>): Promise<void> {
  for (const [error] of (await pipeline.exec()) ?? []) if (error) throw error;
}
