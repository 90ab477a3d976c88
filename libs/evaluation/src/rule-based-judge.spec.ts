import { buildLlmRequest, MockLlmClient, MockLlmOptions } from '@app/llm';
import { Mission, MissionType } from '@app/mission';
import { permanentFailure } from './permanent-failure';
import { RUBRICS } from './rubric';
import { ALL_CRITERIA_MET, RuleBasedJudge, Verdict } from './rule-based-judge';

const NOW = '2026-11-26T08:00:00.000Z';

function mission(type: MissionType, title: string, description: string, payload: Record<string, unknown>): Mission {
  return {
    id: `judge-${title}`,
    type,
    title,
    description,
    priority: 'normal',
    priorityScore: 30,
    requiredSkills: [],
    payload,
    status: 'evaluating',
    attempts: 1,
    assignedAgentId: 'agent-1',
    previousAgentIds: [],
    result: null,
    evaluation: null,
    feedback: null,
    lastError: null,
    correlationId: 'c-1',
    version: 4,
    createdAt: NOW,
    updatedAt: NOW,
  };
}

const quiet: MockLlmOptions = { latencyMs: 0, failureRate: 0, malformedRate: 0 };
async function draft(m: Mission, options: MockLlmOptions = quiet): Promise<Record<string, unknown>> {
  const response = await new MockLlmClient(options).complete(buildLlmRequest(m, { systemPrompt: 'Hotel Seeblick agent.', timeoutMs: 1000 }));
  return response.output;
}

const judge = new RuleBasedJudge();
const unmet = (verdict: Verdict): string[] => verdict.criteria.filter((c) => c.score < 1).map((c) => c.criterion);

describe('rubrics', () => {
  it.each(Object.values(RUBRICS))('given the $version rubric, then its weights sum to 1 and names are unique', (rubric) => {
    expect(rubric.criteria.reduce((sum, c) => sum + c.weight, 0)).toBeCloseTo(1, 10);
    expect(new Set(rubric.criteria.map((c) => c.name)).size).toBe(rubric.criteria.length);
    expect(rubric.version).toMatch(new RegExp(`^${rubric.missionType}@\\d+$`));
  });
});

describe('RuleBasedJudge', () => {
  describe('guest_support', () => {
    const lateCheckout = mission('guest_support', 'Späterer Check-out', 'Gast bittet um späten Check-out.', {
      guest: { name: 'Anna Schmidt', vip: true },
      requestedTime: '14:00',
      roomNumber: 701,
      message: 'Hallo, ich möchte bitte später auschecken, gegen 14 Uhr. Danke!',
    });
    const good = {
      language: 'de',
      reply:
        'Guten Tag Anna Schmidt,\n\nvielen Dank für Ihre Nachricht. Ihren späten Check-out bis 14:00 Uhr prüfen wir gerade.\n\nMit freundlichen Grüßen\nIhr Empfangsteam',
      actions: ['Confirm late check-out'],
    };

    it('given the mock draft for a German late check-out, when judged, then all criteria are met', async () => {
      const verdict = judge.judge(lateCheckout, await draft(lateCheckout));
      expect(verdict).toMatchObject({ passed: true, score: 1, reason: ALL_CRITERIA_MET, rubricVersion: 'guest_support@1', judge: 'rules' });
    });

    it('given the mock draft for an English noise complaint, when judged, then it passes', async () => {
      const noise = mission('guest_support', 'Noise complaint', 'Loud party next door.', {
        roomNumber: 512,
        language: 'en',
        message: 'The room next door is very loud.',
      });
      expect(judge.judge(noise, await draft(noise)).passed).toBe(true);
    });

    it('given an English reply to a German guest, when judged, then right_language fails and so does the verdict', () => {
      const reply =
        'Dear Anna Schmidt,\n\nthank you for your message. We are checking your late check-out until 14:00.\n\nKind regards,\nYour front office team';
      const verdict = judge.judge(lateCheckout, { ...good, language: 'en', reply });
      expect(verdict.passed).toBe(false);
      expect(unmet(verdict)).toEqual(['right_language']);
      expect(verdict.reason).toMatch(/right_language \(critical\): the reply is written in English, but the guest needs German/);
    });

    describe.each([
      ['fr', 'French', 'Départ tardif', 'Bonjour, serait-il possible de quitter la chambre plus tard dimanche ? Merci beaucoup !'],
      ['it', 'Italian', 'Camera rumorosa', "Buonasera, nella camera accanto c'è molto rumore e non riesco a dormire. Grazie."],
      ['es', 'Spanish', 'Desayuno sin gluten', 'Hola, ¿podrían preparar un desayuno sin gluten durante mi estancia? Muchas gracias.'],
      ['nl', 'Dutch', 'Parkeerplaats', 'Goedemiddag, is er tijdens ons verblijf een parkeerplaats in uw garage beschikbaar? Alvast bedankt.'],
    ])('given a guest writing in %s (%s)', (code, name, title, message) => {
      const guest = mission('guest_support', title, message, { guest: { name: 'Alex Martin', vip: false }, message });

      it('when the mock drafts a reply, then it is in that language and meets every criterion', async () => {
        const output = await draft(guest);
        expect(output.language).toBe(code);
        expect(judge.judge(guest, output)).toMatchObject({ passed: true, reason: ALL_CRITERIA_MET });
      });

      it('when the reply is in English, then right_language fails the verdict', async () => {
        const reply = 'Dear Alex Martin,\n\nthank you for your message. Our team is taking care of your request now.\n\nKind regards,\nYour front office team';
        const verdict = judge.judge(guest, { ...(await draft(guest)), language: 'en', reply });
        expect(verdict.passed).toBe(false);
        expect(verdict.reason).toContain(`right_language (critical): the reply is written in English, but the guest needs ${name}`);
      });
    });

    describe('given text in decomposed form (NFD)', () => {
      it('when a German guest asks for a late check-out, then the mock drafts a German reply about it that meets every criterion', async () => {
        const message = 'Könnten wir bitte später auschecken? Vielen Dank'.normalize('NFD');
        const guest = mission('guest_support', 'Anfrage', '', { message });
        const output = await draft(guest);
        expect(output.language).toBe('de');
        expect(judge.judge(guest, output)).toMatchObject({ passed: true, reason: ALL_CRITERIA_MET });
      });

      it('when an English reply answers a French guest, then right_language fails the verdict', async () => {
        const message = 'Très tard, désolé — séjour à l’hôtel'.normalize('NFD');
        const guest = mission('guest_support', 'Late arrival', '', { message });
        const reply = 'Dear guest,\n\nthank you for your message. Our team is taking care of your request now.\n\nKind regards,\nYour front office team';
        const verdict = judge.judge(guest, { ...(await draft(guest)), language: 'en', reply });
        expect(verdict.passed).toBe(false);
        expect(verdict.reason).toContain('right_language (critical): the reply is written in English, but the guest needs French');
      });

      it('when the reply itself is decomposed, then it is read as the composed one', () => {
        const verdict = judge.judge(lateCheckout, { ...good, reply: good.reply.normalize('NFD') });
        expect(verdict).toMatchObject({ passed: true, reason: ALL_CRITERIA_MET });
      });
    });

    describe('given a guest whose language is none of the supported ones', () => {
      it.each([
        ['a Turkish locale', { language: 'tr_TR', message: 'Merhaba, odadan daha geç çıkabilir miyiz? Teşekkürler.' }, /the locale "tr_TR"/],
        ['a Chinese locale', { language: 'zh_CN', message: '我们能晚一点退房吗？谢谢' }, /the locale "zh_CN"/],
        ['Chinese text and no locale', { message: '我们能晚一点退房吗？谢谢' }, /text in Chinese characters \(Han\)/],
        ['Arabic text and no locale', { message: 'هل يمكننا تسجيل المغادرة متأخرا؟ شكرا' }, /text in Arabic script/],
        ['Russian text and no locale', { message: 'Можно ли выехать из номера позже? Спасибо' }, /text in Cyrillic script/],
        ['Polish text and no locale', { message: 'Dzień dobry, czy możemy później opuścić pokój? Dziękuję bardzo.' }, /text in Polish/],
        ['Portuguese text and no locale', { message: 'Olá, não conseguimos dormir, o quarto ao lado tem muito barulho. Obrigado!' }, /text in Portuguese/],
      ])('when the mock drafts a reply for %s, then right_language fails and the failure is permanent', async (_case, payload, named) => {
        const guest = mission('guest_support', 'Late checkout', 'Guest asks for a late checkout.', payload);
        const verdict = judge.judge(guest, await draft(guest));
        expect(verdict.passed).toBe(false);
        expect(unmet(verdict)).toEqual(['right_language']);
        expect(verdict.reason).toMatch(
          /right_language \(critical\): the guest's language \(.*\) is none of the supported languages \(de, en, fr, it, es, nl\); a person must answer this guest/,
        );
        expect(verdict.reason).toMatch(named);
        expect(permanentFailure(guest)).toMatch(named);
      });

      it('when a supported guest gets a reply in another script, then right_language fails', () => {
        const english = mission('guest_support', 'Late checkout', 'Guest asks for a late checkout.', { language: 'en', message: 'Could we check out later?' });
        const verdict = judge.judge(english, { language: 'en', reply: 'Уважаемый гость, спасибо! Поздний выезд возможен. С уважением', actions: ['Confirm'] });
        expect(verdict.passed).toBe(false);
        expect(verdict.reason).toContain('right_language (critical): the reply is written in none of the supported languages, but the guest needs English');
        expect(permanentFailure(english)).toBeNull();
      });
    });

    it('given only a wrong language field, when judged, then the critical criterion fails the verdict despite a high score', () => {
      const verdict = judge.judge(lateCheckout, { ...good, language: 'en' });
      expect(verdict.score).toBeGreaterThanOrEqual(RUBRICS.guest_support.passThreshold);
      expect(verdict.passed).toBe(false);
      expect(unmet(verdict)).toEqual(['right_language']);
    });

    it.each([
      ['a time', 'Ihren späten Check-out bis 16:00 Uhr bestätigen wir gerne.', '16:00'],
      ['a price', 'Der späte Check-out kostet 25 EUR.', '25 EUR'],
      ['a room number', 'Ihren späten Check-out aus Zimmer 802 bestätigen wir.', 'Zimmer 802'],
    ])('given %s the mission does not contain, when judged, then no_invented_facts fails naming it', (_kind, sentence, fact) => {
      const reply = `Guten Tag Anna Schmidt,\n\nvielen Dank für Ihre Nachricht. ${sentence}\n\nMit freundlichen Grüßen\nIhr Empfangsteam`;
      const verdict = judge.judge(lateCheckout, { ...good, reply });
      expect(verdict.passed).toBe(false);
      expect(unmet(verdict)).toEqual(['no_invented_facts']);
      expect(verdict.reason).toContain(fact);
    });

    it('given a reply that ignores the request, when judged, then addresses_request fails', () => {
      const reply = 'Guten Tag Anna Schmidt,\n\nvielen Dank für Ihre Nachricht. Wir freuen uns auf Ihren Besuch.\n\nMit freundlichen Grüßen\nIhr Empfangsteam';
      const verdict = judge.judge(lateCheckout, { ...good, reply });
      expect(verdict.passed).toBe(false);
      expect(unmet(verdict)).toEqual(['addresses_request']);
      expect(verdict.reason).toContain('the late check-out');
    });

    it('given a curt reply without actions, when judged, then polite and actions_present are named', () => {
      const verdict = judge.judge(lateCheckout, { language: 'de', reply: 'Check-out bis 14:00 Uhr ist ok, bitte sehr.', actions: [] });
      expect(unmet(verdict)).toEqual(['polite', 'actions_present']);
      expect(verdict.reason).toMatch(/polite: the reply lacks a greeting, thanks or an apology, a closing/);
    });

    it('given a flawed first draft, when its verdict is fed back, then the next attempt passes', async () => {
      const first = judge.judge(lateCheckout, await draft(lateCheckout, { ...quiet, flawRate: 1 }));
      expect(first.passed).toBe(false);
      expect(unmet(first)).toEqual(['no_invented_facts']);
      const retry = { ...lateCheckout, attempts: 2, feedback: first.reason };
      const second = await draft(retry, { ...quiet, flawRate: 1 });
      expect(judge.judge(retry, second).passed).toBe(true);
      expect(second.actions).toEqual(expect.arrayContaining([expect.stringContaining('no_invented_facts')]));
    });
  });

  describe('pricing', () => {
    const eventNight = mission('pricing', 'Christmas market weekend', 'Double room rate for Saturday.', {
      currency: 'EUR',
      currentRate: 140,
      minRate: 120,
      maxRate: 170,
      occupancy: 0.92,
      event: 'Christmas market opening',
      competitorRate: 165,
    });
    const good = {
      recommendedRate: 160,
      currency: 'EUR',
      changePercent: 14.3,
      reason: 'Occupancy at 92 % and the Christmas market opening support a higher rate within the corridor.',
    };

    it('given the mock draft, when judged, then all criteria are met', async () => {
      expect(judge.judge(eventNight, await draft(eventNight))).toMatchObject({ passed: true, reason: ALL_CRITERIA_MET, rubricVersion: 'pricing@1' });
    });

    it('given a rate above maxRate, when judged, then within_bounds fails', () => {
      const verdict = judge.judge(eventNight, { ...good, recommendedRate: 175, changePercent: 25 });
      expect(verdict.passed).toBe(false);
      expect(unmet(verdict)).toEqual(['within_bounds']);
      expect(verdict.reason).toContain('175 is above the ceiling maxRate 170');
    });

    it('given minRate above maxRate, when judged, then within_bounds fails whatever the rate', async () => {
      const conflict = { ...eventNight, payload: { ...eventNight.payload, minRate: 189, maxRate: 169 } };
      for (const output of [good, await draft(conflict)]) {
        const verdict = judge.judge(conflict, output);
        expect(verdict.passed).toBe(false);
        expect(unmet(verdict)).toContain('within_bounds');
        expect(verdict.reason).toContain('no rate can satisfy both');
      }
    });

    it.each([Number.NaN, -5, '160'])('given recommendedRate %p, when judged, then valid_rate fails', (rate) => {
      const verdict = judge.judge(eventNight, { ...good, recommendedRate: rate });
      expect(verdict.passed).toBe(false);
      expect(unmet(verdict)).toContain('valid_rate');
    });

    it('given a different currency than the payload, when judged, then valid_rate fails', () => {
      expect(unmet(judge.judge(eventNight, { ...good, currency: 'USD' }))).toEqual(['valid_rate']);
    });

    it('given an 80 % jump, when judged, then change_reasonable fails unless the payload allows it', () => {
      const open = { ...eventNight, payload: { currentRate: 100, occupancy: 0.99 } };
      const jump = { ...good, recommendedRate: 180, changePercent: 80 };
      expect(unmet(judge.judge(open, jump))).toEqual(['change_reasonable']);
      const allowed = { ...open, payload: { ...open.payload, maxChangePercent: 100 } };
      expect(judge.judge(allowed, jump).passed).toBe(true);
    });

    it('given a changePercent that does not match the rate, when judged, then change_reasonable is half met', () => {
      const verdict = judge.judge(eventNight, { ...good, changePercent: 5 });
      expect(verdict.criteria.find((c) => c.criterion === 'change_reasonable')?.score).toBe(0.5);
      expect(verdict.passed).toBe(true);
      expect(verdict.reason).toMatch(/^Passed with score 0.9, but improve: change_reasonable/);
    });

    it('given a one-line reason and a panicky jump, when judged, then reason_quality and change_reasonable are named', () => {
      const verdict = judge.judge(eventNight, { recommendedRate: 168, currency: 'EUR', changePercent: 20, reason: 'Demand is up.' });
      expect(unmet(verdict)).toEqual(['reason_quality']);
      const panicky = judge.judge(
        { ...eventNight, payload: { currentRate: 140 } },
        { recommendedRate: 252, currency: 'EUR', changePercent: 80, reason: 'Demand is up.' },
      );
      expect(panicky.passed).toBe(false);
      expect(unmet(panicky)).toEqual(['reason_quality', 'change_reasonable']);
    });
  });

  describe('maintenance', () => {
    const leak = mission('maintenance', 'Water leak in room 214', 'Water on the bathroom floor.', {
      roomNumber: 214,
      equipment: 'washbasin siphon',
      safetyIssue: true,
    });
    const good = {
      urgency: 'high',
      steps: ['Shut off the water supply to room 214', 'Replace the siphon seal and test for leaks'],
      safetyNotes: ['Wet floor signs'],
      parts: ['Siphon seal'],
    };

    it.each([
      leak,
      mission('maintenance', 'Gas smell in kitchen', 'Strong gas smell near the range.', { equipment: 'gas range', safetyIssue: true }),
      mission('maintenance', 'Wardrobe door squeaks', 'Hinge in room 118.', { roomNumber: 118 }),
      mission('maintenance', 'Rauchmelder piept', 'Rauchmelder im Flur piept jede Minute.', {}),
    ])('given the mock draft for "$title", when judged, then all criteria are met', async (m) => {
      expect(judge.judge(m, await draft(m))).toMatchObject({ passed: true, reason: ALL_CRITERIA_MET, rubricVersion: 'maintenance@1' });
    });

    it('given a safety issue planned as low urgency, when judged, then urgency_consistent fails', () => {
      const verdict = judge.judge(leak, { ...good, urgency: 'low' });
      expect(verdict.passed).toBe(false);
      expect(unmet(verdict)).toEqual(['urgency_consistent']);
    });

    it('given sparks without a safety flag planned as medium, when judged, then urgency_consistent fails', () => {
      const sparks = mission('maintenance', 'Socket sparks in room 207', 'Guest saw sparks.', {});
      expect(unmet(judge.judge(sparks, { ...good, urgency: 'medium' }))).toEqual(['urgency_consistent']);
    });

    it('given a safety-relevant job without safety notes, when judged, then safety_notes fails', () => {
      const verdict = judge.judge(leak, { ...good, safetyNotes: [] });
      expect(verdict.passed).toBe(false);
      expect(unmet(verdict)).toEqual(['safety_notes']);
    });

    it('given one vague step and no parts, when judged, then concrete_steps and parts_listed are named', () => {
      const verdict = judge.judge(leak, { ...good, steps: ['Fix it'], parts: [] });
      expect(verdict.passed).toBe(false);
      expect(unmet(verdict)).toEqual(['concrete_steps', 'parts_listed']);
      expect(verdict.reason).toContain('give at least two concrete work steps');
    });

    it('given an output of the wrong shape, when judged, then it fails without throwing', () => {
      const verdict = judge.judge(leak, { urgency: 'urgent', steps: 'fix', safetyNotes: null });
      expect(verdict.passed).toBe(false);
      expect(verdict.score).toBe(0);
    });
  });
});
