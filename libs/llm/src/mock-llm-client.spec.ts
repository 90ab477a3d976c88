import { Mission, validateOutput } from '@app/mission';
import { rejectionOf } from '@app/testing';
import { LlmError, LlmErrorCode } from './llm-error';
import { MockLlmClient, MockLlmOptions } from './mock-llm-client';
import { buildLlmRequest } from './prompt-builder';

const NOW = '2026-11-26T08:00:00.000Z';

function mission(overrides: Partial<Mission> = {}): Mission {
  return {
    id: 'm-1',
    type: 'guest_support',
    title: 'Late checkout request',
    description: 'Guest asks for a late checkout.',
    priority: 'normal',
    priorityScore: 30,
    requiredSkills: ['guest_communication'],
    payload: {},
    status: 'running',
    attempts: 1,
    assignedAgentId: 'agent-1',
    previousAgentIds: [],
    result: null,
    evaluation: null,
    feedback: null,
    lastError: null,
    correlationId: 'c-1',
    version: 3,
    createdAt: NOW,
    updatedAt: NOW,
    ...overrides,
  };
}

const quiet: MockLlmOptions = { latencyMs: 0, failureRate: 0, malformedRate: 0 };
const request = (m: Mission, extra: { timeoutMs?: number; signal?: AbortSignal } = {}) =>
  buildLlmRequest(m, { systemPrompt: 'You work for Hotel Seeblick.', timeoutMs: extra.timeoutMs ?? 5000, signal: extra.signal });
const complete = (m: Mission, options: MockLlmOptions = quiet) => new MockLlmClient(options).complete(request(m));

const guestGerman = mission({
  title: 'Späterer Check-out',
  payload: { guest: { name: 'Anna Schmidt', vip: true }, message: 'Hallo, ich möchte bitte später auschecken, danke!', requestedTime: '14:00' },
});
const pricing = mission({
  type: 'pricing',
  title: 'Rate for Christmas market weekend',
  description: 'Set the double room rate for Saturday.',
  payload: { currentRate: 140, minRate: 120, maxRate: 170, occupancy: 0.93, event: 'Christmas market opening', competitorRate: 165 },
});
const maintenance = mission({
  type: 'maintenance',
  title: 'Water leak under sink in room 214',
  description: 'Guest reports water on the bathroom floor.',
  payload: { roomNumber: 214, equipment: 'washbasin siphon', safetyIssue: true },
});

describe('MockLlmClient', () => {
  describe('determinism', () => {
    it('given the same mission and attempt, when completed twice, then the output is identical', async () => {
      const first = await complete(guestGerman);
      const second = await new MockLlmClient(quiet).complete(request(guestGerman));
      expect(second.output).toEqual(first.output);
      expect(second.rawText).toBe(first.rawText);
    });

    it('given different attempts, when completed, then the drafts may differ', async () => {
      const replies = new Set<string>();
      for (let attempt = 1; attempt <= 6; attempt++) replies.add((await complete({ ...guestGerman, attempts: attempt })).rawText);
      expect(replies.size).toBeGreaterThan(1);
    });

    it('given any mission, when completed, then rawText is the JSON of the output and usage is chars/4', async () => {
      const response = await complete(pricing);
      expect(JSON.parse(response.rawText)).toEqual(response.output);
      expect(response.usage.completionTokens).toBe(Math.ceil(response.rawText.length / 4));
      expect(response.usage.promptTokens).toBeGreaterThan(0);
      expect(response.model).toBe('mock-hotel-1');
    });
  });

  describe('output per type', () => {
    it.each([guestGerman, pricing, maintenance])('given a $type mission, when completed, then the output matches its schema', async (m) => {
      const { output } = await complete(m);
      expect(validateOutput(m.type, output)).toEqual([]);
    });

    it('given a German guest with a name, when completed, then the reply is German, uses the name and the requested time', async () => {
      const { output } = await complete(guestGerman);
      expect(output.language).toBe('de');
      expect(output.reply).toContain('Anna Schmidt');
      expect(output.reply).toMatch(/Check-out bis 14:00 Uhr/);
      expect(output.reply).toMatch(/Grüße/);
    });

    it('given an English noise complaint, when completed, then the reply is English and about the noise', async () => {
      const m = mission({
        title: 'Noise complaint',
        description: 'Guest in 305 complains about a party.',
        payload: { message: 'The party next door is very loud, I cannot sleep.', roomNumber: 305 },
      });
      const { output } = await complete(m);
      expect(output.language).toBe('en');
      expect(output.reply).toMatch(/noise/i);
      expect(output.reply).toMatch(/^Dear guest,/);
    });

    it('given a German late check-out in decomposed form (NFD), when completed, then the reply is German and about the late check-out', async () => {
      const message = 'Könnten wir bitte später auschecken? Vielen Dank'.normalize('NFD');
      const { output } = await complete(mission({ title: 'Anfrage', description: '', payload: { message } }));
      expect(output.language).toBe('de');
      expect(output.reply).toMatch(/späten Check-out/);
    });

    it('given a Turkish guest (tr_TR), when completed, then the draft is English, not the nearest supported language', async () => {
      const { output } = await complete(mission({ payload: { language: 'tr_TR', message: 'Merhaba, odadan daha geç çıkabilir miyiz? Teşekkürler.' } }));
      expect(output.language).toBe('en');
    });

    it('given payload.language, when the text looks English, then payload.language wins', async () => {
      const { output } = await complete(mission({ payload: { language: 'de', message: 'Can I check out late please?' } }));
      expect(output.language).toBe('de');
    });

    it('given a busy event night, when pricing, then the rate goes up but stays within maxRate', async () => {
      const { output } = await complete(pricing);
      expect(output.recommendedRate).toBeGreaterThan(140);
      expect(output.recommendedRate).toBeLessThanOrEqual(170);
      expect(output.currency).toBe('EUR');
      expect(String(output.reason)).toMatch(/occupancy/i);
    });

    it('given minRate above maxRate, when pricing, then the rate is not clamped and the conflict is named', async () => {
      const m = { ...pricing, payload: { currentRate: 150, minRate: 189, maxRate: 169, occupancy: 0.7 } };
      const { output } = await complete(m);
      const rate = Number(output.recommendedRate);
      expect(rate < 189 || rate > 169).toBe(true);
      expect(String(output.reason)).toMatch(/no rate can satisfy both/);
    });

    it('given a safety issue, when planning maintenance, then urgency is high or more with safety notes', async () => {
      const { output } = await complete(maintenance);
      expect(['high', 'critical']).toContain(output.urgency);
      expect((output.safetyNotes as string[]).length).toBeGreaterThan(0);
      expect((output.steps as string[]).length).toBeGreaterThanOrEqual(2);
    });

    it('given a gas smell, when planning maintenance, then urgency is critical', async () => {
      const { output } = await complete(mission({ type: 'maintenance', title: 'Gasgeruch in der Küche', description: 'Starker Gasgeruch am Herd.' }));
      expect(output.urgency).toBe('critical');
    });

    it('given a cosmetic job, when planning maintenance, then urgency is low and no safety notes are invented', async () => {
      const { output } = await complete(mission({ type: 'maintenance', title: 'Wardrobe door squeaks', description: 'Room 118 wardrobe door hinge.' }));
      expect(output.urgency).toBe('low');
      expect(output.safetyNotes).toEqual([]);
      expect((output.parts as string[]).length).toBeGreaterThan(0);
    });
  });

  describe('feedback', () => {
    it.each([guestGerman, pricing, maintenance])('given feedback on a $type mission, when completed, then the draft shows it', async (m) => {
      const { rawText } = await complete({ ...m, attempts: 2, feedback: 'reason_quality: name the competitor' });
      expect(rawText).toContain('reason_quality: name the competitor');
    });

    it('given flawRate 1, when the first draft is written, then it is flawed; with feedback it is not', async () => {
      const flawy: MockLlmOptions = { ...quiet, flawRate: 1 };
      const first = await complete(guestGerman, flawy);
      const revised = await complete({ ...guestGerman, attempts: 2, feedback: 'no_invented_facts: remove the upgrade price' }, flawy);
      expect(first.output.reply).toMatch(/Upgrade für nur \d+ EUR/);
      expect(revised.output.reply).not.toMatch(/EUR/);
    });
  });

  describe('failures', () => {
    const missions = Array.from({ length: 20 }, (_, i) => mission({ id: `m-${i}` }));

    it('given failureRate 1, when completed, then it always rejects with a retryable provider error', async () => {
      for (const m of missions) {
        const error = await rejectionOf(complete(m, { ...quiet, failureRate: 1 }), LlmError);
        expect(error.code).toBe(LlmErrorCode.ProviderError);
        expect(error.retryable).toBe(true);
      }
    });

    it('given failureRate 0, when completed, then it never fails', async () => {
      for (const m of missions) await expect(complete(m)).resolves.toBeDefined();
    });

    it('given malformedRate 1, when completed, then it rejects with malformed output', async () => {
      const error = await rejectionOf(complete(pricing, { ...quiet, malformedRate: 1 }), LlmError);
      expect(error.code).toBe(LlmErrorCode.MalformedOutput);
    });
  });

  describe('latency', () => {
    afterEach(() => jest.useRealTimers());

    it('given latency 0, when completed, then it answers without any timer', async () => {
      jest.useFakeTimers();
      await expect(complete(pricing)).resolves.toBeDefined();
      expect(jest.getTimerCount()).toBe(0);
    });

    it('given an already aborted signal, when completed, then it rejects with Aborted', async () => {
      const controller = new AbortController();
      controller.abort();
      const error = await rejectionOf(new MockLlmClient(quiet).complete(request(pricing, { signal: controller.signal })), LlmError);
      expect(error.code).toBe(LlmErrorCode.Aborted);
      expect(error.retryable).toBe(false);
    });

    it('given a signal aborted while waiting, when completed, then it rejects with Aborted and leaves no timer', async () => {
      jest.useFakeTimers();
      const controller = new AbortController();
      const pending = new MockLlmClient({ ...quiet, latencyMs: 1000 }).complete(request(pricing, { signal: controller.signal }));
      jest.advanceTimersByTime(100);
      controller.abort();
      expect((await rejectionOf(pending, LlmError)).code).toBe(LlmErrorCode.Aborted);
      expect(jest.getTimerCount()).toBe(0);
    });

    it('given latency above the timeout, when completed, then it rejects with Timeout once the timeout passes', async () => {
      jest.useFakeTimers();
      const pending = new MockLlmClient({ ...quiet, latencyMs: 1000 }).complete(request(pricing, { timeoutMs: 200 }));
      jest.advanceTimersByTime(200);
      const error = await rejectionOf(pending, LlmError);
      expect(error.code).toBe(LlmErrorCode.Timeout);
      expect(error.retryable).toBe(true);
    });

    it('given latency below the timeout, when completed, then it answers after the latency', async () => {
      jest.useFakeTimers();
      const pending = new MockLlmClient({ ...quiet, latencyMs: 50 }).complete(request(pricing, { timeoutMs: 200 }));
      jest.advanceTimersByTime(50);
      await expect(pending).resolves.toMatchObject({ model: 'mock-hotel-1' });
    });
  });
});
