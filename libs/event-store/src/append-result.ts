import { Mission, MissionEvent } from '@app/mission';

/** Result codes of append-mission-events.lua. */
export enum AppendCode {
  Ok = 0,
  VersionConflict = 1,
  Duplicate = 2,
  LeaseLost = 3,
  IdempotencyMismatch = 4,
  IdempotencyExpired = 5,
}

export type AppendResult =
  | { code: AppendCode.Ok; mission: Mission; events: MissionEvent[] }
  | { code: AppendCode.VersionConflict; currentVersion: number }
  | { code: AppendCode.Duplicate; missionId: string }
  | { code: AppendCode.LeaseLost }
  /** The idempotency key named mission `missionId`, created from another body. */
  | { code: AppendCode.IdempotencyMismatch; missionId: string }
  /** The idempotency key named mission `missionId`, and its record has expired: the key is spent. */
  | { code: AppendCode.IdempotencyExpired; missionId: string };

export class VersionConflictError extends Error {
  readonly code = 'VERSION_CONFLICT';
  constructor(
    readonly missionId: string,
    readonly expectedVersion: number,
    readonly currentVersion: number,
  ) {
    super(`mission ${missionId}: expected version ${expectedVersion}, log is at ${currentVersion}`);
    this.name = 'VersionConflictError';
  }
}
