import { AppendCode, MissionStore } from '@app/event-store';
import { decideCreate } from '@app/mission';
import { aCreateInput } from '@app/testing';

/**
 * `count` missions (`m-bulk-<i>`), each created with a 1,000-character description: two events
 * apiece, so an export of 300 runs to a few hundred KiB, long enough to be stopped half way.
 */
export async function appendBulkMissions(store: MissionStore, count: number): Promise<void> {
  for (let index = 0; index < count; index++) {
    const created = await store.append(`m-bulk-${index}`, null, decideCreate(aCreateInput({ description: 'd'.repeat(1_000) })), { actor: 'intake' });
    expect(created.code).toBe(AppendCode.Ok);
  }
}
