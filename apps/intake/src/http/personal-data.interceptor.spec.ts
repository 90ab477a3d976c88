import { CallHandler, ExecutionContext } from '@nestjs/common';
import { lastValueFrom, of } from 'rxjs';
import { MissionPersonalData } from '@app/guest-data';
import { decideCreate, Mission, MissionEvent } from '@app/mission';
import { aCreateInput, MissionHistory } from '@app/testing';
import { PersonalDataInterceptor } from './personal-data.interceptor';

/** Marks what it opened, so the test sees which values went through it. */
const personal = {
  openMission: async (mission: Mission) => ({ ...mission, title: `opened ${mission.title}` }),
  openEvent: async (event: MissionEvent) => ({ ...event, actor: 'opened' }),
} as unknown as MissionPersonalData;

async function through(body: unknown): Promise<unknown> {
  const next: CallHandler = { handle: () => of(body) };
  return lastValueFrom(new PersonalDataInterceptor(personal).intercept({} as ExecutionContext, next));
}

describe('PersonalDataInterceptor', () => {
  const history = new MissionHistory();
  const mission = history.append(decideCreate(aCreateInput({ title: 'Towels' })));
  const [event] = history.events;

  it('given a mission, a page of missions, events or a document holding missions, then each mission and event is opened', async () => {
    expect(await through(mission)).toMatchObject({ title: 'opened Towels' });
    expect(await through({ items: [mission], nextCursor: null })).toEqual({ items: [{ ...mission, title: 'opened Towels' }], nextCursor: null });
    expect(await through([event])).toEqual([{ ...event, actor: 'opened' }]);
    expect(await through({ subjectId: 's', missions: [{ mission, personalData: [] }] })).toMatchObject({ missions: [{ mission: { title: 'opened Towels' } }] });
  });

  it('given a body without missions, a Buffer or nothing, then it is returned as it is', async () => {
    const stats = { ready: 1, byStatus: { queued: 1 } };
    expect(await through(stats)).toBe(stats);
    const buffer = Buffer.from('console asset');
    expect(await through(buffer)).toBe(buffer);
    expect(await through(undefined)).toBeUndefined();
  });
});
