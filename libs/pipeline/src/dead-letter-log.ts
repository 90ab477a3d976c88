import { PinoLogger } from 'nestjs-pino';
import { Mission } from '@app/mission';

/** One warning per dead-lettered mission, from whichever service's step dead-lettered it. */
export function logDeadLetter(logger: PinoLogger, mission: Mission): void {
  const { id: missionId, correlationId, attempts, lastError } = mission;
  logger.warn({ missionId, correlationId, attempts, lastError }, 'mission dead-lettered');
}
