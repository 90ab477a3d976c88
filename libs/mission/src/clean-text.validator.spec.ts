import { validateSync } from 'class-validator';
import { IsKeptInPlain, KEPT_IN_PLAIN_PATTERN, MULTI_LINE, SINGLE_LINE, textProblem } from './clean-text.validator';

class KeptInPlainBody {
  @IsKeptInPlain()
  reason!: string;
}

function keptInPlainProblems(reason: string): string[] {
  const body = Object.assign(new KeptInPlainBody(), { reason });
  return validateSync(body).flatMap((error) => Object.values(error.constraints ?? {}));
}

describe('textProblem: a visible character', () => {
  // Each of these passed as a title: a mission, an agent or a reason that shows as nothing.
  it.each([
    ['the Hangul filler U+3164', '\u3164'],
    ['the halfwidth Hangul filler U+FFA0', '\uffa0'],
    ['the Hangul choseong and jungseong fillers', '\u115f\u1160'],
    ['the blank Braille pattern U+2800', '\u2800'],
    ['a soft hyphen', '\u00ad'],
    ['the combining grapheme joiner U+034F', '\u034f'],
    ['a variation selector', '\ufe0f'],
    ['a tag character', '\u{e0020}'],
    ['the invisible separator U+2063', '\u2063'],
    ['a combining acute accent on its own', '\u0301'],
    ['the Mongolian vowel separator U+180E', '\u180e'],
    ['no-break and ideographic spaces', '\u00a0\u3000'],
    ['zero-width spaces', '\u200b\u200b'],
  ])('given only %s, then it must contain a visible character', (_case, text) => {
    expect(textProblem(text, SINGLE_LINE)).toBe('must contain a visible character');
  });

  it.each([
    ['a letter', 'a'],
    ['a letter with a combining accent', 'e\u0301'],
    ['an emoji with its variation selector', '\u2764\ufe0f'],
    ['an ideograph between ideographic spaces', '\u3000\u4e2d\u3000'],
    ['a Hangul syllable', '\ud55c'],
    ['a private-use character, drawn as a box at least', '\ue000'],
  ])('given %s, then it passes', (_case, text) => {
    expect(textProblem(text, SINGLE_LINE)).toBeNull();
  });

  it('given invisible text where none is required (a description), then it passes', () => {
    expect(textProblem('\u3164', MULTI_LINE)).toBeNull();
  });
});

describe('IsKeptInPlain', () => {
  // A full-width or small at sign reads as `@`: "anna＠example.com" was kept in plain for good.
  it.each([
    ['an at sign', 'erase anna@example.com'],
    ['a full-width at sign U+FF20', 'erase anna\uff20example.com'],
    ['a small at sign U+FE6B', 'erase anna\ufe6bexample.com'],
  ])('given a reason with %s, then it is refused, saying so', (_case, reason) => {
    expect(keptInPlainProblems(reason)).toEqual([
      'reason must not hold an e-mail address, or an at sign in any form (@, \uff20, \ufe6b): it is kept in plain, also after an erasure; say why, not who the guest is',
    ]);
  });

  it('given a reason without an at sign, then it passes', () => {
    expect(keptInPlainProblems('guest asked by phone')).toEqual([]);
  });

  it('refuses every character whose NFKC form holds an at sign', () => {
    const pattern = new RegExp(KEPT_IN_PLAIN_PATTERN);
    const passing: string[] = [];
    for (let codePoint = 0; codePoint <= 0x10ffff; codePoint++) {
      if (codePoint >= 0xd800 && codePoint <= 0xdfff) continue;
      const character = String.fromCodePoint(codePoint);
      if (character.normalize('NFKC').includes('@') && pattern.test(character)) passing.push(codePoint.toString(16));
    }
    expect(passing).toEqual([]);
  });
});
