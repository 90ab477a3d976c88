import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';
import fc from 'fast-check';
import { fieldPath } from './field-problems';
import { checkMissionCreate } from './mission-create.check';
import { MissionCreateDto } from './mission-create.dto';

type Verdict = Record<string, string[]>;

function classValidatorVerdict(body: Record<string, unknown>): Verdict {
  const errors = validateSync(plainToInstance(MissionCreateDto, body), { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true });
  const verdict: Verdict = {};
  const visit = (list: ValidationError[], parent: string) => {
    for (const error of list) {
      const field = parent ? `${parent}.${error.property}` : error.property;
      if (error.constraints) verdict[field] = Object.values(error.constraints).sort();
      visit(error.children ?? [], field);
    }
  };
  visit(errors, '');
  return verdict;
}

function compiledVerdict(body: Record<string, unknown>): Verdict {
  const checked = checkMissionCreate(body);
  if (checked.ok) return {};
  return Object.fromEntries(checked.problems.map((problem) => [fieldPath(problem), [...problem.problems].sort()]));
}

const valid = {
  type: 'maintenance',
  title: 'AC broken in room 204',
  description: 'The AC blows warm air.',
  priority: 'high',
  requiredSkills: ['facility_maintenance'],
  payload: { room: '204', guest: { vip: true } },
  deadline: '2026-05-01T18:00:00Z',
  source: { system: 'odoo', model: 'maintenance.request', recordId: 4711 },
  subjects: ['guest:4711'],
};

const deep = (levels: number): Record<string, unknown> => (levels === 0 ? { leaf: true } : { next: deep(levels - 1) });

const strangeValue = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.constant(''),
  fc.constant('\u200b'),
  fc.constant('Room\u0000 204'),
  fc.constant('line one\nline two\twith a tab'),
  fc.constant('Room 204\r\nInjected: yes'),
  fc.constant('invoice\u202Efdp.exe'),
  fc.constant('isolate \u2066x\u2069'),
  fc.constant('paragraph\u2029break'),
  fc.constant('\u001b[2J\u001b[31mred'),
  fc.constant(Number.MAX_SAFE_INTEGER),
  fc.constant(2 ** 53),
  fc.constant('bad \ud800 text'),
  fc.constant('x'.repeat(201)),
  fc.constant('2026-13-45T00:00:00Z'),
  fc.constantFrom('2026-05-01T18:00:00Z', '2026-05-02T08:00:00Z'),
  fc.constant('Bad Skill!'),
  fc.constant(Infinity),
  fc.constant(-1),
  fc.constant(1.5),
  fc.constant([1, 'a']),
  fc.constant(Array.from({ length: 21 }, (_, i) => `s${i}`)),
  fc.constant(deep(10)),
  fc.constant(['guest:4711', 'mission:0196']),
  fc.constant(['anna.schmidt@example.com']),
  fc.constant(['Anna Schmidt']),
  fc.constant({ guest: { id: 'anna.schmidt@example.com', name: 'Anna' } }),
  fc.constant({ guest: { id: 4711 } }),
  // Rounded by JSON.parse: 98765432109876543210 and …211 read alike. Then ids valid only after "guest:".
  fc.constant({ guest: { id: JSON.parse('98765432109876543210') as number } }),
  fc.constant({ guest: { id: -7 } }),
  fc.constant({ guest: { id: '-' } }),
  fc.constant({ guest: { id: '_x' } }),
  fc.constant({ guest: { id: true } }),
  fc.constant({ guest: 'Nina Koalova', message: 'm' }),
  fc.constant({ guest: [{ name: 'Olga', email: 'olga@x.org' }] }),
  fc.constant({ guest: null }),
  // Known keys of the wrong kind (KNOWN_PAYLOAD_KEYS), under the type that reads them or another: each was taken, then ignored.
  fc.constant({ safetyIssue: 'true' }),
  fc.constant({ currentRate: 120, minRate: '200', maxRate: 300 }),
  fc.constant({ vip: 'yes', guest: { vip: 1 }, revenueAtStake: '5000' }),
  fc.constant({ message: 4915112345678, language: ['de'], requestType: 3 }),
  fc.constant({ equipment: { id: 4 }, asset: 'pump', safetyIssue: null }),
  fc.constant({ event: { name: true, upliftPercent: '20' }, roomNumber: 204 }),
  fc.constant(Array.from({ length: 11 }, (_, i) => `guest:${i}`)),
  fc.constantFrom('guest_support', 'pricing', 'low', 'critical', 'german', 'odoo'),
  fc.string({ maxLength: 8 }),
  fc.integer({ min: -5, max: 5 }),
  fc.boolean(),
  fc.dictionary(
    fc.constantFrom('system', 'model', 'recordId', 'db'),
    fc.oneof(fc.string({ maxLength: 3 }), fc.integer({ min: -2, max: 2 }), fc.constantFrom('odoo\nx', 'a\u202eb', 2 ** 53, 2 ** 53 + 2)),
    { maxKeys: 4 },
  ),
);

describe('checkMissionCreate', () => {
  it('given a valid body, then it passes and is returned as is', () => {
    const checked = checkMissionCreate(valid);
    expect(checked).toEqual({ ok: true, value: valid });
    expect(checked.ok && checked.value).toBe(valid);
  });

  it('given a body with one or more fields broken or added, then it reaches the same verdict as class-validator', () => {
    const fields = [...Object.keys(valid), 'extra'];
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...fields), strangeValue, { maxKeys: 4 }), (changes) => {
        const body: Record<string, unknown> = { ...valid, ...changes };
        const expected = classValidatorVerdict(body);
        // class-transformer turns a string or array `source` into per-index errors ("source.0"); both refuse it.
        const odd = typeof body.source === 'string' || Array.isArray(body.source);
        if (odd) expect(Object.keys(compiledVerdict(body)).length > 0).toBe(Object.keys(expected).length > 0);
        else expect(compiledVerdict(body)).toEqual(expected);
      }),
      { numRuns: 3_000 },
    );
  });

  it('given text fields, then single-line ones refuse every control character and bidi override, the description allows tab and line feed only', () => {
    const problemsOf = (body: Record<string, unknown>) => compiledVerdict({ ...valid, ...body });
    expect(problemsOf({ title: 'AC broken\r\nPriority: critical' })).toEqual({ title: ['title must not contain control characters or line breaks'] });
    expect(problemsOf({ title: 'Room 204 \u202Egnp.exe' })).toEqual({ title: ['title must not contain bidirectional override or isolate characters'] });
    expect(problemsOf({ description: 'first line\n\tindented' })).toEqual({});
    expect(problemsOf({ description: 'first line\r\nsecond' })).toEqual({
      description: ['description must not contain control characters other than tab and line feed'],
    });
    expect(problemsOf({ source: { system: 'odoo\u001b[31m', model: 'a\u2067b', recordId: 1 } })).toEqual({
      'source.system': ['system must not contain control characters or line breaks'],
      'source.model': ['model must not contain bidirectional override or isolate characters'],
    });
  });

  it('given a source that is not an object ("odoo", a number), then the message says what to send, not class-validator\'s "nested property"', () => {
    const message = ['source must be an object (system, model, recordId)'];
    expect(compiledVerdict({ ...valid, source: 'odoo' })).toEqual({ source: message });
    expect(compiledVerdict({ ...valid, source: 4711 })).toEqual({ source: message });
    // The declared rule says the same, so the verdicts stay alike.
    expect(classValidatorVerdict({ ...valid, source: 4711 })).toEqual({ source: message });
  });

  it('given a source recordId above 2^53 - 1, then it is refused: a JSON number there is not exact', () => {
    const body = JSON.parse('{"system":"odoo","model":"m","recordId":9007199254740993}') as Record<string, unknown>;
    expect(compiledVerdict({ ...valid, source: body })).toEqual({ 'source.recordId': ['recordId must not be greater than 9007199254740991'] });
    expect(compiledVerdict({ ...valid, source: { ...body, recordId: Number.MAX_SAFE_INTEGER } })).toEqual({});
  });

  it('given an e-mail address or a name as a subject, then it is refused with a message that says why', () => {
    const verdict = compiledVerdict({ ...valid, subjects: ['anna.schmidt@example.com'] });
    expect(verdict).toEqual(classValidatorVerdict({ ...valid, subjects: ['anna.schmidt@example.com'] }));
    expect(verdict.subjects).toEqual([expect.stringMatching(/opaque id.*no @, so not an e-mail address or a name/)]);
    expect(compiledVerdict({ ...valid, subjects: ['Anna Schmidt'] }).subjects).toHaveLength(1);
  });

  it('given an e-mail address, a name or no string as the guest id, then the payload is refused as class-validator refuses it', () => {
    for (const id of ['anna.schmidt@example.com', 'Anna Schmidt', { email: 'a@b.c' }, null]) {
      const body = { ...valid, payload: { room: '204', guest: { id, name: 'Anna' } } };
      expect(compiledVerdict(body)).toEqual(classValidatorVerdict(body));
      expect(compiledVerdict(body).payload).toEqual([expect.stringMatching(/payload\.guest\.id must be an opaque id.*not an e-mail address/)]);
    }
    for (const id of [4711, 'odoo-partner-9']) expect(compiledVerdict({ ...valid, payload: { guest: { id } } })).toEqual({});
  });

  it('given a guest that is a string, a list or another value that is no object, then the payload is refused as class-validator refuses it, naming payload.guest', () => {
    // They were kept in plain: PERSONAL_FIELDS names payload.guest.name, .email and .phone, which only an object has.
    for (const guest of ['Nina Koalova', [{ name: 'Olga', email: 'olga@x.org' }], 4711, true]) {
      const body = { ...valid, payload: { room: '204', guest } };
      expect(compiledVerdict(body)).toEqual(classValidatorVerdict(body));
      expect(compiledVerdict(body).payload).toEqual([expect.stringMatching(/^payload\.guest must be an object/)]);
    }
    for (const guest of [null, {}, { name: 'Nina' }]) expect(compiledVerdict({ ...valid, payload: { guest } })).toEqual({});
  });

  it('given a known payload key of the wrong kind, then the payload is refused as class-validator refuses it, naming the path and the kind', () => {
    // Each was a 201 whose value was then ignored: "true" lost the safety tier, "200" let a rate below the floor pass.
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['maintenance', { safetyIssue: 'true' }, /^payload\.safetyIssue must be a boolean \(true or false\), not the string "true": /],
      ['pricing', { currentRate: 120, minRate: '200' }, /^payload\.minRate must be a number, not the string "200": /],
      ['guest_support', { vip: 'yes' }, /^payload\.vip must be a boolean \(true or false\), not the string "yes": /],
      ['pricing', { revenueAtStake: '5000' }, /^payload\.revenueAtStake must be a number, not the string "5000": /],
    ];
    for (const [type, payload, message] of cases) {
      const body = { ...valid, type, payload };
      expect(compiledVerdict(body)).toEqual(classValidatorVerdict(body));
      expect(compiledVerdict(body)).toEqual({ payload: [expect.stringMatching(message)] });
    }
    // A key only another type reads is free-form there, as every other key is.
    const other = { ...valid, type: 'maintenance', payload: { minRate: '200' } };
    expect(compiledVerdict(other)).toEqual({});
    expect(classValidatorVerdict(other)).toEqual({});
  });

  it('given a deadline before notBefore, then it is refused as class-validator refuses it; at or after it, taken', () => {
    // It used to be taken: the mission was overdue while still waiting to start.
    const early = { ...valid, notBefore: '2026-05-02T08:00:00Z', deadline: '2026-05-01T18:00:00Z' };
    expect(compiledVerdict(early)).toEqual(classValidatorVerdict(early));
    expect(compiledVerdict(early)).toEqual({ deadline: ['deadline must not be before notBefore'] });
    for (const deadline of ['2026-05-02T08:00:00Z', '2026-05-03T08:00:00Z']) {
      const body = { ...valid, notBefore: '2026-05-02T08:00:00Z', deadline };
      expect(compiledVerdict(body)).toEqual({});
      expect(classValidatorVerdict(body)).toEqual({});
    }
  });

  it('given a deadline or notBefore without its UTC offset, then it is refused as class-validator refuses it', () => {
    // Each service read such a time in its own time zone, and a bare date as midnight UTC.
    for (const time of ['2026-05-01T18:00:00', '2026-05-01']) {
      const body = { ...valid, deadline: time, notBefore: time };
      expect(compiledVerdict(body)).toEqual(classValidatorVerdict(body));
      expect(compiledVerdict(body)).toEqual({
        deadline: [expect.stringMatching(/^deadline must be an ISO 8601 date-time with its UTC offset/)],
        notBefore: [expect.stringMatching(/^notBefore must be an ISO 8601 date-time with its UTC offset/)],
      });
    }
    const offset = { ...valid, notBefore: '2026-05-01T07:00:00+02:00', deadline: '2026-05-01T18:00:00+02:00' };
    expect(compiledVerdict(offset)).toEqual({});
    expect(classValidatorVerdict(offset)).toEqual({});
  });

  it('given every field missing, then each required one is named, as class-validator names it', () => {
    expect(compiledVerdict({})).toEqual(classValidatorVerdict({}));
    expect(Object.keys(compiledVerdict({})).sort()).toEqual(['description', 'payload', 'priority', 'title', 'type']);
  });
});
