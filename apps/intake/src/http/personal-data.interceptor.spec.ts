import { CallHandler, ExecutionContext } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { lastValueFrom, of } from 'rxjs';
import { GuestDataError, GuestDataErrorCode, MissionPersonalData, WrongMasterKeyError } from '@app/guest-data';
import { decideCreate, Mission, MissionEvent, REDACTED_MARKER, ShownMission, UNAVAILABLE_MARKER } from '@app/mission';
import { aCreateInput, MissionHistory } from '@app/testing';
import { Role } from '../auth';
import { ALTERED_GUEST_DATA } from './error-body.filter';
import { PersonalDataInterceptor } from './personal-data.interceptor';

/** Marks what it opened, so the test sees which values went through it; a mission titled `altered` or `key` fails as such data would. */
const personal = {
  openMission: async (mission: Mission) => {
    if (mission.title === 'altered') throw new GuestDataError(GuestDataErrorCode.Tampered, 'stored guest data fails its authentication check');
    if (mission.title === 'key') throw new WrongMasterKeyError('mk-old', ['mk-new']);
    return { ...mission, title: `opened ${mission.title}` };
  },
  openEvents: async (events: MissionEvent[]) => events.map((event) => ({ ...event, actor: 'opened' })),
} as unknown as MissionPersonalData;

/** A request from a key of `role` (none: no caller attached). */
function contextOf(role: Role | null): ExecutionContext {
  const request = role ? { apiClient: { name: `a-${role}`, role } } : {};
  return { getType: () => 'http', switchToHttp: () => ({ getRequest: () => request }) } as unknown as ExecutionContext;
}

async function through(body: unknown, role: Role | null = 'operator'): Promise<unknown> {
  const next: CallHandler = { handle: () => of(body) };
  return lastValueFrom(new PersonalDataInterceptor(personal, new PinoLogger({ pinoHttp: { level: 'silent' } })).intercept(contextOf(role), next));
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

  // One such mission made the whole page a 500: the review inbox stopped for every reviewer. Alone
  // (its page, a cancel's answer) it was the 500, and the console showed no staff alert.
  it('given a page holding a mission whose guest data fails its integrity check, or that mission alone, then it is shown with its personal fields unavailable and why', async () => {
    const altered = new MissionHistory().append(decideCreate(aCreateInput({ title: 'altered', description: 'Towels for the guest' })));
    const page = (await through({ items: [mission, altered], nextCursor: null })) as { items: ShownMission[] };
    expect(page.items.map((item) => item.title)).toEqual(['opened Towels', 'altered']);
    expect(page.items[1]).toMatchObject({ description: UNAVAILABLE_MARKER, unavailable: ALTERED_GUEST_DATA });
    expect(page.items[0]).not.toHaveProperty('unavailable');
    expect(await through(altered)).toMatchObject({ id: altered.id, description: UNAVAILABLE_MARKER, unavailable: ALTERED_GUEST_DATA });
    // A master key this process lacks is every mission's: the whole request's 503.
    const keyed = new MissionHistory().append(decideCreate(aCreateInput({ title: 'key' })));
    await expect(through({ items: [mission, keyed], nextCursor: null })).rejects.toBeInstanceOf(WrongMasterKeyError);
  });

  it('given a body without missions, a Buffer or nothing, then it is returned as it is', async () => {
    const stats = { ready: 1, byStatus: { queued: 1 } };
    expect(await through(stats)).toBe(stats);
    const buffer = Buffer.from('console asset');
    expect(await through(buffer)).toBe(buffer);
    expect(await through(undefined)).toBeUndefined();
  });

  it.each(['submitter', 'reviewer', 'operator'] as const)('given a %s key, then missions and events are opened', async (role) => {
    expect(await through(mission, role)).toMatchObject({ title: 'opened Towels' });
    expect(await through([event], role)).toEqual([{ ...event, actor: 'opened' }]);
  });

  it.each(['reader', null] as const)('given a %s caller (null: none known), then personal fields read [redacted] and nothing is opened', async (role) => {
    const guestHistory = new MissionHistory();
    const guest = guestHistory.append(
      decideCreate(
        aCreateInput({ type: 'guest_support', description: 'Anna is cold', payload: { guest: { id: 'g-1', name: 'Anna' }, message: 'Heating off' } }),
      ),
    );
    const withResult = {
      ...guest,
      result: {
        output: { reply: 'Dear Anna', actions: ['call Anna'], language: 'en' },
        model: 'm',
        latencyMs: 1,
        usage: { promptTokens: 1, completionTokens: 1 },
      },
    };
    const shown = (await through({ items: [withResult] }, role)) as { items: Mission[] };
    expect(shown.items[0]).toMatchObject({
      title: guest.title,
      description: REDACTED_MARKER,
      payload: { guest: { id: 'g-1', name: REDACTED_MARKER }, message: REDACTED_MARKER },
      result: { output: { reply: REDACTED_MARKER, actions: REDACTED_MARKER, language: 'en' } },
    });
    const [created] = guestHistory.events;
    expect(await through([created], role)).toMatchObject([
      { actor: created.actor, data: { description: REDACTED_MARKER, payload: { message: REDACTED_MARKER } } },
    ]);
    expect(JSON.stringify(shown)).not.toMatch(/Anna|Heating/);
  });
});
