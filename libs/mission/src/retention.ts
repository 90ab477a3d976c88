import { isTerminal } from './lifecycle';
import { MissionStatus } from './mission-status';
import { MissionType } from './mission-type';

export const DAY_MS = 86_400_000;

/** A mission about a data subject, as retention weighs it. */
export interface RetainedMission {
  readonly missionId: string;
  readonly type: MissionType;
  readonly status: MissionStatus;
  /** When it reached its final status (ms); absent while it is unfinished. */
  readonly finishedAt?: number;
  /** When it was dead-lettered (ms), while it is: named in the reason it keeps its subjects. */
  readonly deadLetteredAt?: number;
}

export type RetentionVerdict =
  /** Every mission is finished and past its type's days; `days` are those of the mission kept longest. */
  | { readonly erase: true; readonly days: number; readonly reason: string }
  /** Kept: `reason` names the first mission that keeps it, a dead letter before any other (only an operator ends it). */
  | { readonly erase: false; readonly reason: string };

/**
 * Whether retention erases a data subject at `now`, given every mission still holding data about
 * it (those it was erased from already left out): only when EVERY one is finished (succeeded or
 * cancelled; a dead letter can be requeued, so it keeps its subject) and past its OWN type's days,
 * counted from when it finished. So the longest retention among a guest's missions rules, and a
 * new mission keeps all of the guest's older ones readable as long as it is kept itself.
 */
export function retentionVerdict(missions: readonly RetainedMission[], days: Readonly<Record<MissionType, number>>, now: number): RetentionVerdict {
  if (missions.length === 0) return { erase: false, reason: 'no mission holds data about it' };
  const deadLetter = missions.find((mission) => mission.status === 'dead_lettered');
  if (deadLetter) return { erase: false, reason: deadLetterReason(deadLetter) };
  let longest = 0;
  for (const mission of missions) {
    if (!isTerminal(mission.status) || mission.finishedAt === undefined) {
      return { erase: false, reason: `mission ${mission.missionId} is ${mission.status}` };
    }
    const kept = days[mission.type];
    const until = mission.finishedAt + kept * DAY_MS;
    if (until > now) {
      return { erase: false, reason: `mission ${mission.missionId} (${mission.type}, ${kept} days) is kept until ${new Date(until).toISOString()}` };
    }
    longest = Math.max(longest, kept);
  }
  return { erase: true, days: longest, reason: `retention policy ${longest} days` };
}

/**
 * Why a dead letter keeps its subjects: it waits for an operator, for as long as nobody acts, so the
 * reason says since when and what ends it.
 */
function deadLetterReason(mission: RetainedMission): string {
  const since = mission.deadLetteredAt === undefined ? '' : ` since ${new Date(mission.deadLetteredAt).toISOString()}`;
  return `mission ${mission.missionId} is dead-lettered${since}: requeue or cancel it`;
}
