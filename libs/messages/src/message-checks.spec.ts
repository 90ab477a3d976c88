import 'reflect-metadata';
import { BadRequestException, ValidationPipe } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';
import fc from 'fast-check';
import { isPlainObject, tidiedProblems } from '@app/mission';
import { MESSAGE_CHECKS, messageProblems } from './message-checks';
import { messageValidation } from './message-validation.pipe';
import { AgentReleased, MissionMessage } from './messages';
import { SubmitMissionCommand } from './submit-mission.command';
import { validateSubmitMission } from './validate-message';

/** What the transport used to get: Nest's ValidationPipe over the class-validator decorators. */
const reference = new ValidationPipe({ transform: true, whitelist: false, forbidUnknownValues: true });

async function referenceProblems(type: new () => object, data: unknown): Promise<string[]> {
  try {
    await reference.transform(data, { type: 'body', metatype: type });
    return [];
  } catch (error) {
    const response = (error as BadRequestException).getResponse() as { message: string[] };
    return [...response.message].sort();
  }
}

/** What the decorators say (class-transformer + class-validator, unknown fields refused), each field's problems tidied as the API tidies them. */
function referenceSubmitProblems(data: Record<string, unknown>): string[] {
  const errors = validateSync(plainToInstance(SubmitMissionCommand, data), { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true });
  const flatten = (list: ValidationError[], parent: string): string[] =>
    list.flatMap((error) => {
      const path = parent ? `${parent}.${error.property}` : error.property;
      // A field left out, or null (a create's "left out"), is required, named by its path in the create, as the API says it;
      // a property the object may not have stays one, null or not.
      const absent = (error.value === undefined || error.value === null) && !('whitelistValidation' in (error.constraints ?? {}));
      const problems = absent ? [`${path.replace(/^mission\./, '')} is required`] : tidiedProblems(Object.values(error.constraints ?? {}));
      return [...(error.constraints ? problems.map((text) => `${path}: ${text}`) : []), ...flatten(error.children ?? [], path)];
    });
  return flatten(errors, '').sort();
}

const snapshot = {
  id: '01964f3a-7c2e-7b1a-9d4e-2f6a8b0c1d2e',
  type: 'pricing',
  status: 'assigned',
  version: 3,
  attempts: 1,
  requiredSkills: ['revenue_management'],
  payload: { eventName: 'fair' },
  title: 'Rate for the fair weekend',
  result: null,
};

const create = { type: 'maintenance', title: 'AC broken', description: '', priority: 'high', payload: { room: '204' } };

const VALID: [new () => object, Record<string, unknown>][] = [
  [MissionMessage, { mission: snapshot }],
  [AgentReleased, { agentId: 'agent-mila', missionId: 'm1', attempt: 2, credit: { delta: 8.5, score: 0.85, passed: true }, by: 'evaluator' }],
];

const odd = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.constant(''),
  fc.constant(0),
  fc.constant(-1),
  fc.constant(1.5),
  fc.constant(10_001),
  fc.constant('spa'),
  fc.constant('queued'),
  fc.constant('executor'),
  fc.constant({ delta: 1, score: 2, passed: 'yes' }),
  fc.constant([
    { free: 0, skills: 'x' },
    { free: 2, skills: ['a'] },
  ]),
  fc.constant([1, 'a']),
  fc.constant({}),
  fc.constant({ ...snapshot, version: 0 }),
  fc.constant({ ...snapshot, type: 'spa', requiredSkills: 'x' }),
  // A create whose known payload keys hold the wrong kind (KNOWN_PAYLOAD_KEYS), as `mission` of a submit command.
  fc.constant({ ...create, payload: { safetyIssue: 'true', vip: 'yes' } }),
  fc.constant({ ...create, type: 'pricing', payload: { currentRate: 120, minRate: '200' } }),
  fc.constant([snapshot, { ...snapshot, id: 7 }]),
  fc.constant([snapshot, 1, null]),
  fc.string({ maxLength: 4 }),
  fc.integer({ min: -3, max: 3 }),
  fc.boolean(),
);

/** class-transformer turns a string into an object with one key per character, and walks arrays: both refuse, in other words. */
const shapeless = (value: unknown) => typeof value === 'string' || Array.isArray(value) || (typeof value === 'object' && value !== null && !('id' in value));

describe('message checks', () => {
  it('covers every message DTO the handlers take', () => {
    expect([...MESSAGE_CHECKS.keys()].sort((a, b) => a.name.localeCompare(b.name))).toEqual(
      VALID.map(([type]) => type).sort((a, b) => a.name.localeCompare(b.name)),
    );
  });

  it.each(VALID)('given a valid %p, then the pipe passes the parsed object itself', async (type, message) => {
    expect(await referenceProblems(type, message)).toEqual([]);
    await expect(messageValidation.transform(message, { type: 'custom', metatype: type })).resolves.toBe(message);
  });

  it('given messages with fields broken, then each check reaches the verdict of the decorators, in the same words', async () => {
    for (const [type, valid] of VALID) {
      const check = MESSAGE_CHECKS.get(type);
      if (!check) throw new Error(`no check for ${type.name}`);
      const fields = [...Object.keys(valid), 'extra'];
      await fc.assert(
        fc.asyncProperty(fc.dictionary(fc.constantFrom(...fields), odd, { maxKeys: 3 }), async (changes) => {
          const message = { ...valid, ...changes };
          const expected = await referenceProblems(type, message);
          const actual = messageProblems(check, message).sort();
          // Nest drops a field's own constraints once it has nested errors: `missions` as one object says only what is wrong inside it.
          const loose =
            ('mission' in changes && shapeless(changes.mission)) ||
            ('missions' in changes && isPlainObject(changes.missions)) ||
            ('credit' in changes && (typeof changes.credit === 'string' || Array.isArray(changes.credit))) ||
            ('agents' in changes && (typeof changes.agents === 'string' || isPlainObject(changes.agents)));
          if (loose) expect(actual.length > 0).toBe(expected.length > 0);
          else expect(actual).toEqual(expected);
        }),
        { numRuns: 400 },
      );
    }
  });

  it('given data that is not an object, then it is refused with a reason', async () => {
    await expect(messageValidation.transform('hello', { type: 'custom', metatype: AgentReleased })).rejects.toThrow(BadRequestException);
    expect(messageProblems(MESSAGE_CHECKS.get(AgentReleased) ?? (() => undefined), null)).toEqual(['message data must be a JSON object']);
  });

  it('given a submit command whose mission fields have the wrong types, then each field is told its type once, as the API tells it', () => {
    const checked = validateSubmitMission({ mission: { ...create, title: 123, description: ['x'] }, idempotencyKey: 7 });
    // It listed every rule a number breaks, the type twice: "mission.title: title must be a string; mission.title: title must be shorter than …; mission.title: title must be a string; …".
    expect(checked).toEqual({
      ok: false,
      problems: [
        'idempotencyKey: idempotencyKey must be a string',
        'mission.title: title must be a string',
        'mission.description: description must be a string',
      ],
    });
  });

  it('given a submit command whose mission has a known payload key of the wrong kind, then it is refused in the words of the API and of the decorators', () => {
    // It was taken: the mission was created without its safety tier, or with a floor the judge never saw.
    for (const [payload, type, message] of [
      [{ safetyIssue: 'true' }, 'maintenance', /^mission\.payload: payload\.safetyIssue must be a boolean \(true or false\), not the string "true": /],
      [{ currentRate: 120, minRate: '200' }, 'pricing', /^mission\.payload: payload\.minRate must be a number, not the string "200": /],
    ] as const) {
      const command = { mission: { ...create, type, payload } };
      const checked = validateSubmitMission(command);
      expect(checked).toEqual({ ok: false, problems: [expect.stringMatching(message)] });
      expect(referenceSubmitProblems(command)).toEqual(checked.ok ? [] : checked.problems);
    }
  });

  it('given submit commands with fields broken or added, then validateSubmitMission says what class-validator said, tidied as the API says it', () => {
    const valid = { mission: create, missionId: '01964f3a-7c2e-7b1a-9d4e-2f6a8b0c1d2e', idempotencyKey: 'odoo-1', correlationId: 'c-1' };
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom('mission', 'missionId', 'idempotencyKey', 'correlationId', 'extra'), odd, { maxKeys: 3 }), (changes) => {
        const command: Record<string, unknown> = { ...valid, ...changes };
        const expected = referenceSubmitProblems(command);
        const checked = validateSubmitMission(command);
        const actual = checked.ok ? [] : [...checked.problems].sort();
        if ('mission' in changes && shapeless(changes.mission)) expect(actual.length > 0).toBe(expected.length > 0);
        else expect(actual).toEqual(expected);
      }),
      { numRuns: 1_000 },
    );
    expect(validateSubmitMission(valid)).toEqual({ ok: true, value: valid });
    // Upper case was taken as a UUID, and the mission was then out of reach of every REST route (lowercase ids only).
    const upper = { ...valid, missionId: valid.missionId.toUpperCase() };
    expect(validateSubmitMission(upper)).toEqual({ ok: false, problems: ['missionId: missionId must be a lowercase UUID'] });
    expect(referenceSubmitProblems(upper)).toEqual(['missionId: missionId must be a lowercase UUID']);
    // A correlation id is kept in plain on every event and log line, beyond the guest's erasure.
    const mailed = { ...valid, correlationId: 'anna.schmidt@example.org' };
    const refused = ['correlationId: correlationId must be 1 to 200 visible ASCII characters other than @'];
    expect(validateSubmitMission(mailed)).toEqual({ ok: false, problems: refused });
    expect(referenceSubmitProblems(mailed)).toEqual(refused);
  });

  it('given a submit command leaving out required fields, then each is required, as POST /api/missions says it, not every rule its absence breaks', () => {
    // It read "mission.title: title must be a string", "… priority must be one of …", "payload must be an object".
    expect(validateSubmitMission({ mission: { type: 'bogus', source: { system: 'odoo', model: 'helpdesk.ticket' } } })).toEqual({
      ok: false,
      problems: [
        'mission.type: type must be one of the following values: guest_support, pricing, maintenance',
        'mission.title: title is required',
        'mission.description: description is required',
        'mission.priority: priority is required',
        'mission.payload: payload is required',
        'mission.source.recordId: source.recordId is required',
      ],
    });
    expect(validateSubmitMission({ missionId: null })).toEqual({ ok: false, problems: ['mission: mission is required'] });
    // Unknown, and null: still unknown.
    expect(validateSubmitMission({ mission: { ...create, extra: null }, other: null })).toEqual({
      ok: false,
      problems: ['other: property other should not exist', 'mission.extra: property extra should not exist'],
    });
  });
});
