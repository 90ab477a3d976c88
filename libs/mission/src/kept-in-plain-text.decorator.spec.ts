import { validateSync } from 'class-validator';
import { KeptInPlainText } from './kept-in-plain-text.decorator';

class OptionalReason {
  @KeptInPlainText({ description: 'why' })
  reason?: string | null;
}

class RequiredFeedback {
  @KeptInPlainText({ required: true, notEmpty: true, maxLength: 20, multiLine: true, description: 'what to change' })
  feedback!: string;
}

function problems<T extends object>(type: new () => T, fields: Partial<T>): string[] {
  return validateSync(Object.assign(new type(), fields)).flatMap((error) => Object.values(error.constraints ?? {}));
}

describe('KeptInPlainText', () => {
  it('given an optional field left out, then it passes, but not sent as null; given a clean line, it passes', () => {
    expect(problems(OptionalReason, {})).toEqual([]);
    expect(problems(OptionalReason, { reason: null })).toContain('reason must be a string');
    expect(problems(OptionalReason, { reason: 'guest checked out' })).toEqual([]);
  });

  it('given an optional field, then it is still a string of one clean line within 500 characters without an at sign', () => {
    expect(problems(OptionalReason, { reason: 'ops@hotel.example' })).toEqual([expect.stringContaining('must not hold an e-mail address')]);
    expect(problems(OptionalReason, { reason: 'two\nlines' })).toHaveLength(1);
    expect(problems(OptionalReason, { reason: 'x'.repeat(501) })).toEqual(['reason must be shorter than or equal to 500 characters']);
    expect(problems(OptionalReason, { reason: 7 as unknown as string })).toContain('reason must be a string');
  });

  it('given a required multi-line field, then it must be there, not empty, within its length, and may span lines', () => {
    expect(problems(RequiredFeedback, {})).toContain('feedback must be a string');
    expect(problems(RequiredFeedback, { feedback: '' })).toContain('feedback should not be empty');
    expect(problems(RequiredFeedback, { feedback: 'one\ntwo' })).toEqual([]);
    expect(problems(RequiredFeedback, { feedback: 'x'.repeat(21) })).toEqual(['feedback must be shorter than or equal to 20 characters']);
  });
});
