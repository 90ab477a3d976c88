import { parseJudgeOutput } from './judge-output';
import { LlmError } from './llm-error';

const criteria = ['tone', 'language'];
const messageOf = (rawText: string): string => {
  try {
    parseJudgeOutput(rawText, criteria);
  } catch (error) {
    expect(error).toBeInstanceOf(LlmError);
    return (error as LlmError).message;
  }
  throw new Error('the verdict was taken');
};

describe('parseJudgeOutput', () => {
  it("given a judge's answer that is no JSON and quotes the guest, then the error quotes none of it", () => {
    // It used to quote the answer's start ("Dear Anna Schmidt"…), and the evaluator logs it.
    const message = messageOf('Dear Anna Schmidt, the reply is fine.');
    expect(message).toMatch(/^verdict is not valid JSON: /);
    expect(message).not.toMatch(/Anna|Schmidt/);
  });

  it("given a criterion the rubric does not have, then the error names the rubric's, not the model's", () => {
    const verdict = {
      reason: 'ok',
      criteria: [
        { criterion: 'tone', score: 1 },
        { criterion: 'language', score: 1 },
        { criterion: 'Anna Schmidt', score: 2 },
      ],
    };
    const message = messageOf(JSON.stringify(verdict));
    expect(message).toContain('a criterion not in the rubric (tone, language)');
    expect(message).not.toMatch(/Anna|Schmidt/);
  });

  // Taken as it came: a 3,000,000-character reason was stored in the log and sent in the next attempt's prompt.
  it('given a reason beyond the bound of an output text, or with control characters, then the verdict is refused', () => {
    const scored = [
      { criterion: 'tone', score: 0.5 },
      { criterion: 'language', score: 1 },
    ];
    expect(messageOf(JSON.stringify({ reason: 'x'.repeat(10_001), criteria: scored }))).toContain('reason must be at most 10000 characters');
    expect(messageOf(JSON.stringify({ reason: 'ok \u001b[2J', criteria: scored }))).toContain(
      'reason must not contain control characters other than tab and line feed',
    );
  });

  it('given a reason that breaks lines with CRLF, then its lines break with LF and the verdict is taken', () => {
    const criteriaScored = [
      { criterion: 'tone', score: 0.5 },
      { criterion: 'language', score: 1 },
    ];
    expect(parseJudgeOutput(JSON.stringify({ reason: 'Polite.\r\nIn English.', criteria: criteriaScored }), criteria).reason).toBe('Polite.\nIn English.');
  });

  it('given a verdict that scores every criterion within 0..1, then it is taken', () => {
    const verdict = {
      reason: 'ok',
      criteria: [
        { criterion: 'tone', score: 0.5 },
        { criterion: 'language', score: 1 },
      ],
    };
    expect(parseJudgeOutput(JSON.stringify(verdict), criteria)).toEqual(verdict);
  });
});
