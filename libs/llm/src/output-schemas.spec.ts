import { MISSION_TYPES, PERSONAL_FIELDS, OUTPUT_SCHEMAS, validateOutput } from '@app/mission';
import { LlmError, LlmErrorCode } from './llm-error';
import { parseLlmOutput } from './parse-output';

describe('output schemas', () => {
  it('given valid outputs, when validated, then there are no problems', () => {
    expect(validateOutput('guest_support', { language: 'de', reply: 'Guten Tag', actions: [] })).toEqual([]);
    expect(validateOutput('pricing', { recommendedRate: 129, currency: 'EUR', changePercent: 7.5, reason: 'Event demand.' })).toEqual([]);
    expect(validateOutput('maintenance', { urgency: 'high', steps: ['a', 'b'], safetyNotes: [], parts: ['seal'] })).toEqual([]);
  });

  it('given broken outputs, when validated, then every problem is named', () => {
    expect(validateOutput('guest_support', { language: 'pt', reply: ' ', actions: 'call' })).toEqual([
      'language must be one of de, en, fr, it, es, nl',
      'reply must not be empty',
      'actions must be an array of strings',
    ]);
    expect(validateOutput('pricing', { recommendedRate: Number.NaN, currency: 'eur', reason: 'x', extra: 1 })).toEqual([
      'changePercent is required',
      'recommendedRate must be a finite number',
      'currency must match ^[A-Z]{3}$',
      '1 field is not allowed (allowed: recommendedRate, currency, changePercent, reason)',
    ]);
    expect(validateOutput('maintenance', ['not', 'an', 'object'])).toEqual(['output must be a JSON object']);
  });

  it('given a required text of invisible characters only, then it is as empty: a reviewer’s edit or a model’s reply that shows nothing is refused', () => {
    for (const nothing of ['\u200b', '\u00ad\u200d', ' \u2800 ', '\u3164', '\u0301'])
      expect(validateOutput('pricing', { recommendedRate: 140, currency: 'EUR', changePercent: 40, reason: nothing })).toEqual(['reason must not be empty']);
    expect(validateOutput('guest_support', { language: 'de', reply: '\ufeff', actions: [] })).toEqual(['reply must not be empty']);
    expect(validateOutput('pricing', { recommendedRate: 140, currency: 'EUR', changePercent: 40, reason: '\u200bFair\u200b' })).toEqual([]);
  });

  // The model's text passed with them, while a reviewer's edit of it was refused for them: the text rule holds for both now.
  it('given text with control characters or bidi overrides, then it is refused, in a string as in a list, the line feed and tab aside', () => {
    expect(validateOutput('guest_support', { language: 'en', reply: '\u202eNo refund\u202c', actions: ['Note \u001b[8mhidden\u001b[0m'] })).toEqual([
      'reply must not contain bidirectional override or isolate characters',
      'actions must not contain control characters other than tab and line feed',
    ]);
    expect(validateOutput('guest_support', { language: 'en', reply: 'Dear guest,\n\tsee you.', actions: [] })).toEqual([]);
  });

  it("given fields the schema does not know, then the problem counts them and names none: their names are the model's text", () => {
    const problems = validateOutput('guest_support', { language: 'de', reply: 'Hallo', actions: [], 'Anna Schmidt, room 204': 1, 'anna@example.com': 2 });
    expect(problems).toEqual(['2 fields are not allowed (allowed: language, reply, actions)']);
  });

  it('given text beyond the bounds, then it is refused: a model caught in a loop cannot put megabytes into the log', () => {
    expect(validateOutput('guest_support', { language: 'de', reply: 'x'.repeat(10_001), actions: [] })).toEqual(['reply must be at most 10000 characters']);
    expect(validateOutput('guest_support', { language: 'de', reply: 'x'.repeat(10_000), actions: [] })).toEqual([]);
    expect(validateOutput('maintenance', { urgency: 'low', steps: Array(51).fill('a'), safetyNotes: ['b'.repeat(2_001)], parts: [] })).toEqual([
      'steps must hold at most 50 items',
      'safetyNotes items must be at most 2000 characters',
    ]);
  });

  it('given a field some type declares personal output, then only the types that declare it allow it in their output', () => {
    // A result event names no type, so its readers open these fields in any type's output
    // (MissionPersonalData.openEvent): a type whose output held one in plain would read as erased or tampered.
    const personalOutput = new Set(MISSION_TYPES.flatMap((type) => PERSONAL_FIELDS[type].output));
    for (const type of MISSION_TYPES)
      for (const field of personalOutput)
        expect([type, field, Object.hasOwn(OUTPUT_SCHEMAS[type].properties, field)]).toEqual([type, field, PERSONAL_FIELDS[type].output.includes(field)]);
  });

  it('given the schemas, when serialised, then they are plain JSON schema objects', () => {
    const schema = JSON.parse(JSON.stringify(OUTPUT_SCHEMAS.maintenance));
    expect(schema).toMatchObject({ type: 'object', required: ['urgency', 'steps', 'safetyNotes', 'parts'] });
  });
});

describe('parseLlmOutput', () => {
  // The text rule, now the model's too, refuses a carriage return: a reply written with CRLF failed its attempt, billed.
  it('given a reply whose text breaks lines with CRLF or a lone CR, when parsed, then its lines break with LF and it is taken', () => {
    const reply = JSON.stringify({ language: 'en', reply: 'Dear guest,\r\nwelcome.\rSee you.', actions: ['Call\r\nback'] });
    expect(parseLlmOutput('guest_support', reply)).toEqual({ language: 'en', reply: 'Dear guest,\nwelcome.\nSee you.', actions: ['Call\nback'] });
  });

  it('given JSON in a code fence, when parsed, then the fence is ignored', () => {
    const text = '```json\n{"urgency":"low","steps":[],"safetyNotes":[],"parts":[]}\n```';
    expect(parseLlmOutput('maintenance', text)).toEqual({ urgency: 'low', steps: [], safetyNotes: [], parts: [] });
  });

  it.each([
    ['Sure! {"urgency":', 'not valid JSON'],
    ['{"urgency":"soon","steps":[],"safetyNotes":[],"parts":[]}', 'does not match the maintenance schema'],
  ])('given %s, when parsed, then it throws a retryable MalformedOutput', (text, message) => {
    let caught: unknown;
    try {
      parseLlmOutput('maintenance', text);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(LlmError);
    expect(caught).toMatchObject({ code: LlmErrorCode.MalformedOutput, retryable: true });
    expect((caught as LlmError).message).toContain(message);
  });

  it('given a reply that is text, not JSON, then the error does not quote it: it is stored in plain as the failure, and may hold guest data', () => {
    expect(() => parseLlmOutput('guest_support', 'Dear Anna Schmidt, your room is ready')).toThrow(
      /^output is not valid JSON: Unexpected token 'D', <the text> is not valid JSON$/,
    );
  });
});
