import { MissionType } from './mission-type';

/** A dead letter as the API lists it (`GET /api/dlq`); the console reads it too, so this file imports nothing of the server. */
export interface DeadLetterEntry {
  missionId: string;
  type: MissionType;
  title: string;
  reason: string;
  attempts: number;
  lastError: string | null;
  deadLetteredAt: string;
}
