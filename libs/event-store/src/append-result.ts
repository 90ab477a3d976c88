import { Mission, MissionEvent } from '@app/mission';

/** Result codes of append-mission-events.lua. */
export enum AppendCode {
  Ok = 0,
  VersionConflict = 1,
  Duplicate = 2,
  LeaseLost = 3,
}

export type AppendResult =
  | { code: AppendCode.Ok; mission: Mission; events: MissionEvent[] }
  | { code: AppendCode.VersionConflict; currentVersion: number }
  | { code: AppendCode.Duplicate; missionId: string }
  | { code: AppendCode.LeaseLost };

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
