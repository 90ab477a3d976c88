import { NotFoundException } from '@nestjs/common';

/**
 * The 404 of a mission id the caller may not know: one that does not exist, and, for a client key,
 * another's mission (seesMission). One wording for both, so the answer tells them apart by nothing.
 */
export function missionNotFound(missionId: string): NotFoundException {
  return new NotFoundException(`mission ${missionId} not found`);
}
