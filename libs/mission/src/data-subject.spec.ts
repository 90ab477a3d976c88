import { aCreateInput, aResult, anEvaluation, MissionHistory } from '@app/testing';
import { guestIdProblem, guestProblem, guestSubjectOf, resolveSubjects, withErasuresOf } from './data-subject';
import { decideAssign, decideComplete, decideCreate, decideEraseSubject, decideEvaluate, decideStart } from './decide';
import { evolveInPlace } from './evolve-in-place';
import { MissionEvent } from './mission-events';
import { Mission } from './mission-state';
import { PERSONAL_FIELDS, personalValues, valueAt, withValues } from './personal-fields';

describe('data subjects', () => {
  it('given explicit subjects, then they are the subjects (once each)', () => {
    const input = aCreateInput({ subjects: ['guest:1', 'guest:2', 'guest:1'], payload: {} });
    expect(resolveSubjects(input, 'm-1')).toEqual(['guest:1', 'guest:2']);
  });

  it('given explicit subjects and payload.guest.id, then the guest is a subject too, so one erasure of the guest reaches this mission', () => {
    expect(resolveSubjects(aCreateInput({ subjects: ['guest:1', 'room-party:9'], payload: { guest: { id: 7 } } }), 'm-1')).toEqual([
      'guest:1',
      'room-party:9',
      'guest:7',
    ]);
    expect(resolveSubjects(aCreateInput({ subjects: ['guest:7'], payload: { guest: { id: 7 } } }), 'm-1')).toEqual(['guest:7']);
    // A guest id that is no subject id is never a key name; the explicit subjects stand alone.
    expect(resolveSubjects(aCreateInput({ subjects: ['guest:1'], payload: { guest: { id: 'anna@example.com' } } }), 'm-1')).toEqual(['guest:1']);
  });

  it('given payload.guest.id and no subjects, then the guest is the subject', () => {
    expect(resolveSubjects(aCreateInput({ payload: { guest: { id: 4711, name: 'Anna' } } }), 'm-1')).toEqual(['guest:4711']);
    expect(resolveSubjects(aCreateInput({ subjects: [], payload: { guest: { id: 'A-17' } } }), 'm-1')).toEqual(['guest:A-17']);
  });

  it('given numeric guest ids above 2^53 that JSON.parse rounds to one number, then neither names a subject: they would be one guest', () => {
    const [first, second] = [JSON.parse('{"guest":{"id":98765432109876543210}}'), JSON.parse('{"guest":{"id":98765432109876543211}}')];
    // What the boundary saw: two guests, one number.
    expect(first.guest.id).toBe(second.guest.id);
    for (const payload of [first, second, { guest: { id: Number.MAX_SAFE_INTEGER + 1 } }, { guest: { id: -1 } }, { guest: { id: 1.5 } }]) {
      expect(guestSubjectOf(payload)).toBeNull();
      expect(guestIdProblem(payload)).toMatch(/^payload\.guest\.id, when a number, .*send larger ids as strings$/);
    }
    expect(guestSubjectOf({ guest: { id: '98765432109876543210' } })).toBe('guest:98765432109876543210');
    expect(guestSubjectOf({ guest: { id: '98765432109876543211' } })).toBe('guest:98765432109876543211');
    expect(guestSubjectOf({ guest: { id: Number.MAX_SAFE_INTEGER } })).toBe(`guest:${Number.MAX_SAFE_INTEGER}`);
    expect(guestSubjectOf({ guest: { id: 0 } })).toBe('guest:0');
  });

  it('given a string guest id, then the id itself must start with a letter or digit, and guest:<id> stay within 128 characters', () => {
    // They passed as guest:-, guest:_x and guest::x: the pattern was tested on the whole subject.
    for (const id of ['-', '_x', ':x', '.x', 'x'.repeat(123), '']) {
      expect({ id, subject: guestSubjectOf({ guest: { id } }) }).toEqual({ id, subject: null });
      expect(guestIdProblem({ guest: { id } })).toMatch(/^payload\.guest\.id must be an opaque id/);
    }
    expect(guestSubjectOf({ guest: { id: 'x'.repeat(122) } })).toBe(`guest:${'x'.repeat(122)}`);
    expect(guestIdProblem({ guest: { id: 'A-17' } })).toBeNull();
    expect(guestIdProblem({ guest: { name: 'Anna' } })).toBeNull();
  });

  it('given a guest that is no object, then guestProblem refuses it: its name or e-mail would be no personal field, kept in plain', () => {
    for (const guest of ['Nina Koalova', [{ name: 'Olga', email: 'olga@x.org' }], 7]) {
      expect(guestProblem({ guest })).toMatch(/^payload\.guest must be an object/);
    }
    expect(guestProblem({ guest: { id: 'anna@example.com' } })).toMatch(/^payload\.guest\.id must be an opaque id/);
    for (const payload of [{}, { guest: null }, { guest: { name: 'Anna' } }, 'no object']) expect(guestProblem(payload)).toBeNull();
  });

  it('given no guest id, then the mission is its own subject when a personal field holds anything, else there is none', () => {
    // A guest id that is no valid subject id (an e-mail address) is not used as one.
    expect(resolveSubjects(aCreateInput({ payload: { guest: { id: 'anna@example.com' } } }), 'm-1')).toEqual(['mission:m-1']);
    expect(resolveSubjects(aCreateInput({ type: 'pricing', description: 'Rate for the fair', payload: { city: 'Nürnberg' } }), 'm-2')).toEqual([]);
    expect(resolveSubjects(aCreateInput({ type: 'pricing', payload: { contactEmail: 'x@example.com' } }), 'm-3')).toEqual(['mission:m-3']);
    // The description of a guest request is the guest's own words.
    expect(resolveSubjects(aCreateInput({ type: 'guest_support', payload: {} }), 'm-4')).toEqual(['mission:m-4']);
  });

  it('given a guest support mission with no personal input at all, then the mission is its subject: its reply is personal output', () => {
    const input = aCreateInput({ type: 'guest_support', description: '', payload: { room: '12' } });
    expect(resolveSubjects(input, 'm-5')).toEqual(['mission:m-5']);
    expect(resolveSubjects(aCreateInput({ type: 'maintenance', description: '', payload: { room: '12' } }), 'm-6')).toEqual([]);
  });
});

describe('personal fields', () => {
  it('given a create body, then the personal fields of its type that hold something are found, and replaced in a copy', () => {
    const input = aCreateInput({ payload: { room: '12', guest: { id: 1, name: 'Anna Schmidt', email: '' }, message: 'Hello' } });
    const found = personalValues('guest_support', 'input', input);
    expect(found).toEqual([
      { path: 'description', value: input.description },
      { path: 'payload.guest.name', value: 'Anna Schmidt' },
      { path: 'payload.message', value: 'Hello' },
    ]);
    const sealed = withValues(
      input,
      found.map(({ path }) => ({ path, value: `sealed ${path}` })),
    );
    expect(valueAt(sealed, 'payload.guest.name')).toBe('sealed payload.guest.name');
    expect(valueAt(sealed, 'payload.guest.id')).toBe(1);
    expect(valueAt(sealed, 'payload.room')).toBe('12');
    // The original is untouched.
    expect(input.payload).toEqual({ room: '12', guest: { id: 1, name: 'Anna Schmidt', email: '' }, message: 'Hello' });
  });

  it('given a pricing mission that names a subject, then its description is personal too; without subjects it is not', () => {
    const input = aCreateInput({ type: 'pricing', description: 'Ticket body: Anna Schmidt asks for a rate', payload: {} });
    expect(personalValues('pricing', 'input', input)).toEqual([]);
    expect(personalValues('pricing', 'input', { ...input, subjects: ['guest:7'] })).toEqual([{ path: 'description', value: input.description }]);
    expect(personalValues('pricing', 'output', { description: 'x', subjects: ['guest:7'] })).toEqual([]);
  });

  it('given the table, then every type declares the guest payload fields, and only guest support has personal output', () => {
    for (const fields of Object.values(PERSONAL_FIELDS))
      expect(fields.input).toEqual(expect.arrayContaining(['payload.guest.name', 'payload.guest.email', 'payload.guest.phone']));
    expect(PERSONAL_FIELDS.guest_support.output).toEqual(['reply', 'actions']);
    expect(PERSONAL_FIELDS.pricing.output).toEqual([]);
  });
});

describe('decideEraseSubject', () => {
  const aboutAnna = () => {
    const history = new MissionHistory();
    history.append(decideCreate(aCreateInput({ subjects: ['guest:anna'] })));
    return history;
  };

  it('given a queued mission about the subject, then SubjectErased and MissionCancelled; a second erasure is skipped', () => {
    const history = aboutAnna();
    expect(history.mission.subjects).toEqual(['guest:anna']);
    const mission = history.apply(decideEraseSubject(history.mission, 'guest:anna', 'Art. 17 request'));
    expect(history.events.slice(-2).map((event) => [event.type, event.data])).toEqual([
      ['SubjectErased', { subjectId: 'guest:anna', reason: 'Art. 17 request' }],
      ['MissionCancelled', { reason: 'subject guest:anna erased: Art. 17 request' }],
    ]);
    expect(mission.status).toBe('cancelled');
    expect(mission.erasedSubjects).toEqual(['guest:anna']);
    expect(decideEraseSubject(mission, 'guest:anna', 'again').kind).toBe('skip');
  });

  it('given a succeeded mission, then only SubjectErased, and the status stays; evolve and evolve-in-place agree', () => {
    const history = aboutAnna();
    history.apply(decideAssign(history.mission, 'agent-1'));
    history.apply(decideStart(history.mission, 1));
    history.apply(decideComplete(history.mission, 1, aResult()));
    history.apply(decideEvaluate(history.mission, anEvaluation(1, true)));
    expect(history.mission.status).toBe('succeeded');
    const mission = history.apply(decideEraseSubject(history.mission, 'guest:anna', 'request'));
    expect(mission.status).toBe('succeeded');
    expect(history.events.at(-1)?.type).toBe('SubjectErased');
    const inPlace = history.events.reduce<Mission | null>((state, event: MissionEvent) => evolveInPlace(state, event), null);
    expect(inPlace).toEqual(mission);
  });

  it('given a mission not about the subject, then it is skipped', () => {
    expect(decideEraseSubject(aboutAnna().mission, 'guest:bob', 'request').kind).toBe('skip');
  });
});

describe('withErasuresOf', () => {
  const past = { id: 'm-1', erasedSubjects: ['guest:1'] } as unknown as Mission;

  it('given subjects erased since, then the past names them too, after those it named', () => {
    const now = { ...past, erasedSubjects: ['guest:1', 'guest:2'] } as Mission;
    expect(withErasuresOf(past, now).erasedSubjects).toEqual(['guest:1', 'guest:2']);
  });

  it('given none erased since, then the past is returned as it is', () => {
    expect(withErasuresOf(past, past)).toBe(past);
    const never = { id: 'm-2' } as unknown as Mission;
    expect(withErasuresOf(never, never)).toBe(never);
  });
});
